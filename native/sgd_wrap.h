// The SGD object JS holds: the native side of lib/optim.ts's SGD (parameters and momentum buffers).
#pragma once
#include <napi.h>

#include <memory>
#include <vector>

#include "memory.h"
#include "model.h"
#include "optimizer.h"

namespace finetorch {

class SgdWrap : public Napi::ObjectWrap<SgdWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new SGD(model, groups: string[][]): parameter names per group.
  explicit SgdWrap(const Napi::CallbackInfo& info);

  static SgdWrap* Unwrap(const Napi::Value& value);  // throws a TypeError if it is not one
  std::shared_ptr<Sgd> sgd() const { return sgd_; }
  std::shared_ptr<ModelState> model() const { return model_; }
  // Group options as JS passes them with each step: [{ lr, momentum, dampening, weightDecay, nesterov }].
  std::vector<SgdOptions> readOptions(const Napi::Value& value) const;
  void updateMemory(Napi::Env env);

 private:
  Napi::Value MomentumBuffers(const Napi::CallbackInfo& info);
  Napi::Value LoadMomentumBuffers(const Napi::CallbackInfo& info);

  std::shared_ptr<ModelState> model_;
  std::shared_ptr<Sgd> sgd_;
  ExternalMemory memory_;
};

}  // namespace finetorch
