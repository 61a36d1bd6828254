// The masked autoencoder JS holds (lib/model/mae.ts): MAE's MaskedAutoencoderViT behind a handle,
// one method per coarse operation, each run on the libuv pool; lib/ queues the calls, the lock is a
// safety net that is never waited for.
#pragma once
#include <napi.h>

#include <memory>
#include <mutex>

#include "binding/async_call.h"
#include "binding/external_memory.h"
#include "binding/net_handle.h"
#include "core/nn/mae.h"

namespace finetorch {

struct MaeHandle : NetHandle {
  MaskedAutoencoder net{nullptr};  // null once disposed
  torch::nn::Module* module() override { return net ? net.get() : nullptr; }
};

class MaeWrap : public Napi::ObjectWrap<MaeWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // createMae({ imgSize, patchSize, embedDim, depth, numHeads, mlpRatio, decoderEmbedDim,
  //   decoderDepth, decoderNumHeads, normPixLoss, seed? }) -> Promise<{ model, parameters }>
  static Napi::Value Create(const Napi::CallbackInfo& info);

  explicit MaeWrap(const Napi::CallbackInfo& info);
  ~MaeWrap() override;

  std::shared_ptr<MaeHandle> handle() const { return handle_; }

 private:
  using Work = std::function<AsyncCall::Result(MaskedAutoencoderImpl&)>;
  Napi::Value Run(AsyncCall& call, Work work);

  Napi::Value LoadStateDict(const Napi::CallbackInfo& info);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value ForwardLoss(const Napi::CallbackInfo& info);
  Napi::Value TrainStep(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  std::shared_ptr<MaeHandle> handle_;
  ExternalMemory memory_;
};

}  // namespace finetorch
