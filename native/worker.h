// PromiseWorker: runs a piece of LibTorch work on the libuv pool and settles a Promise with it.
#pragma once
#include <napi.h>

#include <functional>
#include <vector>

#include "errors.h"
#include "runtime.h"

namespace finetorch {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;                    // libuv pool; may throw
  using Result = std::function<Napi::Value(Napi::Env)>;  // JS thread, after Work succeeded

  // keepAlive: JS objects (input buffers) whose memory Work reads, held until the worker is done.
  static Napi::Promise Run(Napi::Env env, Work work, Result result, const std::vector<Napi::Object>& keepAlive = {}) {
    auto* worker = new PromiseWorker(env, std::move(work), std::move(result));
    for (const auto& object : keepAlive) worker->keepAlive_.push_back(Napi::Persistent(object));
    worker->Queue();
    return worker->deferred_.Promise();
  }

 protected:
  void Execute() override {
    try {
      ApplyThreadSetting();
      work_();
    } catch (...) {
      SetError(CurrentExceptionMessage());
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(result_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(Napi::Error::New(env, CurrentExceptionMessage()).Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  PromiseWorker(Napi::Env env, Work work, Result result)
      : Napi::AsyncWorker(env, "finetorch"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        result_(std::move(result)) {}

  Napi::Promise::Deferred deferred_;
  Work work_;
  Result result_;
  std::vector<Napi::ObjectReference> keepAlive_;
};

}  // namespace finetorch
