// What an optimizer binds to and steps under: a model's lock and its module, whichever wrap holds
// them (a classifier's ModelHandle, a masked autoencoder's MaeHandle).
#pragma once
#include <torch/torch.h>

#include <mutex>

#include "core/error.h"

namespace finetorch {

struct NetHandle {
  std::mutex mutex;
  virtual ~NetHandle() = default;
  // The module whose parameters an optimizer looks up by name; null once disposed.
  virtual torch::nn::Module* module() = 0;
};

// Runs f(module) with the model locked, or throws kBusy / kDisposed without waiting.
template <typename F>
auto WithNet(NetHandle& handle, F&& f) {
  std::unique_lock<std::mutex> lock(handle.mutex, std::try_to_lock);
  if (!lock.owns_lock()) throw Error(ErrorCode::kBusy, "the model is busy with another operation; await it first");
  torch::nn::Module* module = handle.module();
  if (!module) throw Error(ErrorCode::kDisposed, "this model has been disposed");
  return f(*module);
}

}  // namespace finetorch
