#include "binding/runtime.h"

#include <torch/torch.h>

#include "binding/errors.h"
#include "core/cpu_allocator.h"
#include "core/runtime.h"

namespace finetorch {

Napi::Object RuntimeInfo(Napi::Env env) {
  BuildInfo build = GetBuildInfo();
  Napi::Object info = Napi::Object::New(env);
  info.Set("torchVersion", build.torchVersion);
  info.Set("cudaVersion", build.cudaVersion.empty() ? env.Null() : Napi::String::New(env, build.cudaVersion));
  info.Set("cudnnVersion", build.cudnnVersion.empty() ? env.Null() : Napi::String::New(env, build.cudnnVersion));
  return info;
}

Napi::Value CudaWhyUnavailable(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return Napi::String::New(info.Env(), CudaUnavailableReason()); });
}

Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return Napi::Boolean::New(info.Env(), torch::cuda::is_available()); });
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(),
                 [&] { return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count())); });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Guarded(info.Env(), [&] { return Napi::Number::New(info.Env(), RequestedThreads()); });
}

// setNumThreads(n): lib/base/runtime.ts has checked n >= 1.
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int threads = info[0].As<Napi::Number>().Int32Value();
  Guarded(info.Env(), [&] { SetRequestedThreads(threads); });
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

Napi::Value CpuCacheBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(IdleCpuCacheBytes()));
}

Napi::Value EmptyCpuCache(const Napi::CallbackInfo& info) {
  ReleaseCpuCache();
  return info.Env().Undefined();
}

}  // namespace finetorch
