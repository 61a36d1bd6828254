// AsyncCall: one native call that runs LibTorch work on the libuv pool and settles a Promise. The
// call keeps the JS objects its work reads (input buffers, the model) alive until it settles, so
// no call site has to list them.
#pragma once
#include <napi.h>

#include <functional>
#include <utility>
#include <vector>

#include "binding/errors.h"

namespace finetorch {

class AsyncCall {
 public:
  using Work = std::function<void()>;                    // libuv pool; may throw
  using Result = std::function<Napi::Value(Napi::Env)>;  // JS thread, after Work succeeded

  explicit AsyncCall(Napi::Env env) : env_(env) {}
  Napi::Env env() const { return env_; }
  // Held until the call settles.
  void keep(const Napi::Object& object) { kept_.push_back(object); }
  Napi::Promise run(Work work, Result result);

 private:
  Napi::Env env_;
  std::vector<Napi::Object> kept_;
};

}  // namespace finetorch
