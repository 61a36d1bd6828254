#include "runtime.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <atomic>

#include "errors.h"

namespace finetorch {
namespace {

std::atomic<int> requestedThreads{0};  // 0: LibTorch's default

}  // namespace

void ApplyThreadSetting() {
  int threads = requestedThreads.load();
  if (threads > 0 && torch::get_num_threads() != threads) torch::set_num_threads(threads);
}

Napi::Object RuntimeInfo(Napi::Env env) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("torchVersion", TORCH_VERSION);
  return info;
}

Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return Napi::Boolean::New(info.Env(), torch::cuda::is_available()); });
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(),
                 [&] { return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count())); });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  int threads = requestedThreads.load();
  return Napi::Number::New(info.Env(), threads > 0 ? threads : torch::get_num_threads());
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int threads = info[0].As<Napi::Number>().Int32Value();
  if (threads < 1) throw Napi::RangeError::New(info.Env(), "setNumThreads: need at least 1 thread");
  requestedThreads = threads;
  Guarded(info.Env(), [&] { torch::set_num_threads(threads); });
  return info.Env().Undefined();
}

Napi::Value SetAllowTF32(const Napi::CallbackInfo& info) {
  bool allow = info[0].ToBoolean();
  Guarded(info.Env(), [&] {
    at::globalContext().setAllowTF32CuBLAS(allow);
    at::globalContext().setAllowTF32CuDNN(allow);
  });
  return info.Env().Undefined();
}

}  // namespace finetorch
