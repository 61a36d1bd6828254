// The Model object JS holds: a core Model behind a handle that workers share, with one method per
// coarse operation, each run on the libuv pool. lib/model/resnet.ts queues every call on a model, so the
// lock here is only a safety net: it is never waited for, and a held lock is an error.
#pragma once
#include <napi.h>

#include <functional>
#include <memory>
#include <mutex>

#include "binding/async_call.h"
#include "binding/external_memory.h"
#include "binding/net_handle.h"
#include "core/error.h"
#include "core/model.h"

namespace finetorch {

struct ModelHandle : NetHandle {
  std::unique_ptr<Model> model;  // null once disposed
  torch::nn::Module* module() override { return model ? model->net().get() : nullptr; }
};

// Runs f(model) with the model locked, or throws kBusy / kDisposed without waiting.
template <typename F>
auto WithModel(ModelHandle& handle, F&& f) {
  return WithNet(handle, [&](torch::nn::Module&) { return f(*handle.model); });
}

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // createModel({ family: 'resnet', block, layers, groups, widthPerGroup, numClasses, seed? }
  //   | { family: 'vit', imgSize, patchSize, embedDim, depth, numHeads, mlpRatio, qkvBias,
  //       classToken, globalPool, fcNorm, dropPathRate, numClasses, seed? })
  //   -> Promise<{ model, parameters: { name, shape }[] }>
  static Napi::Value Create(const Napi::CallbackInfo& info);
  static ModelWrap* Unwrap(const Napi::Value& value);  // throws a TypeError if it is not one

  explicit ModelWrap(const Napi::CallbackInfo& info);
  ~ModelWrap() override;

  std::shared_ptr<ModelHandle> handle() const { return handle_; }
  // Runs work(model) on the pool with the model locked; what work returns converts the outcome
  // to JS on the JS thread. The model's memory is reported to V8 afterwards.
  using ModelWork = std::function<AsyncCall::Result(Model&)>;
  Napi::Value Run(AsyncCall& call, ModelWork work);

 private:
  Napi::Value LoadStateDict(const Napi::CallbackInfo& info);
  Napi::Value LoadStateDictFromFile(const Napi::CallbackInfo& info);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value Features(const Napi::CallbackInfo& info);
  Napi::Value TrainStep(const Napi::CallbackInfo& info);
  Napi::Value EvalStep(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);
  Napi::Value ResetClassifier(const Napi::CallbackInfo& info);
  Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value SetPrecision(const Napi::CallbackInfo& info);
  Napi::Value SetDropPathRate(const Napi::CallbackInfo& info);
  Napi::Value LossScale(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<ModelHandle> handle_;
  ExternalMemory memory_;
};

}  // namespace finetorch
