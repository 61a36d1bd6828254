// The Model object JS holds: a ResNet-18 plus the coarse operations on it (load/save weights,
// forward, train/eval steps), each run on the libuv pool behind a per-model lock.
#pragma once
#include <napi.h>
#include <torch/torch.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "amp.h"
#include "memory.h"
#include "resnet.h"

namespace finetorch {

struct ModelState {
  std::mutex mutex;  // one operation at a time; JS also queues them in order
  ResNet18 net{nullptr};
  bool bnTrainWhenFrozen = false;
  Amp amp = Amp::kNone;
  bool channelsLast = false;
  GradScaler scaler;  // fp16 only

  ResNet18& checked();  // throws once disposed
};

// How a state dict maps onto the model: a target per given entry (undefined when unexpected).
struct LoadPlan {
  std::vector<torch::Tensor> targets;
  std::vector<torch::Tensor> resetCounters;
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
};

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // createModel(numClasses, seed) -> Promise<ModelWrap>
  static Napi::Value Create(const Napi::CallbackInfo& info);

  explicit ModelWrap(const Napi::CallbackInfo& info);
  ~ModelWrap() override;

  std::shared_ptr<ModelState> state() const { return state_; }

 private:
  Napi::Value NumClasses(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Parameters(const Napi::CallbackInfo& info);
  Napi::Value LoadStateDict(const Napi::CallbackInfo& info);
  Napi::Value LoadStateDictFromFile(const Napi::CallbackInfo& info);
  Napi::Value LoadResult(Napi::Env env, const LoadPlan& plan);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value Features(const Napi::CallbackInfo& info);
  Napi::Value TrainStep(const Napi::CallbackInfo& info);
  Napi::Value EvalStep(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);
  Napi::Value ReplaceFc(const Napi::CallbackInfo& info);
  Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value SetPrecision(const Napi::CallbackInfo& info);
  Napi::Value LossScale(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  // Runs f with the model locked, on the JS thread; throws "busy" rather than blocking it.
  template <typename F>
  auto withModelNow(Napi::Env env, F&& f);
  void updateMemory(Napi::Env env);

  std::shared_ptr<ModelState> state_;
  ExternalMemory memory_;
};

}  // namespace finetorch
