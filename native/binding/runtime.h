// Process-wide LibTorch facts and settings for JS: version, CUDA presence, CPU threads, TF32, the
// CPU memory cache.
#pragma once
#include <napi.h>

namespace finetorch {

Napi::Object RuntimeInfo(Napi::Env env);  // { torchVersion, cudaVersion, cudnnVersion }
Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info);
Napi::Value CudaWhyUnavailable(const Napi::CallbackInfo& info);  // why a CUDA request fails
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info);
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);
Napi::Value SetNumThreads(const Napi::CallbackInfo& info);
Napi::Value SetAllowTF32(const Napi::CallbackInfo& info);  // cuBLAS and cuDNN alike
Napi::Value CpuCacheBytes(const Napi::CallbackInfo& info);
Napi::Value EmptyCpuCache(const Napi::CallbackInfo& info);

}  // namespace finetorch
