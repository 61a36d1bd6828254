#include "binding/async_call.h"

#include <string>

#include "core/runtime.h"

namespace finetorch {
namespace {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, AsyncCall::Work work, AsyncCall::Result result, const std::vector<Napi::Object>& kept)
      : Napi::AsyncWorker(env, "finetorch"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        result_(std::move(result)) {
    for (const auto& object : kept) kept_.push_back(Napi::Persistent(object));
  }
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      ApplyThreadSetting();
      work_();
    } catch (...) {
      std::tie(code_, message_) = CurrentError();
      SetError(message_);
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      deferred_.Resolve(result_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      auto [code, message] = CurrentError();
      deferred_.Reject(ToJsError(env, code, message).Value());
    }
  }
  void OnError(const Napi::Error&) override { deferred_.Reject(ToJsError(Env(), code_, message_).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  AsyncCall::Work work_;
  AsyncCall::Result result_;
  std::vector<Napi::ObjectReference> kept_;
  ErrorCode code_ = ErrorCode::kNative;
  std::string message_;
};

}  // namespace

Napi::Promise AsyncCall::run(Work work, Result result) {
  auto* worker = new PromiseWorker(env_, std::move(work), std::move(result), kept_);
  worker->Queue();
  return worker->promise();
}

}  // namespace finetorch
