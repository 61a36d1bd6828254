// Process-wide LibTorch facts and settings: version, CUDA presence, CPU threads.
#pragma once
#include <napi.h>

namespace finetorch {

Napi::Object RuntimeInfo(Napi::Env env);  // { torchVersion, cudaCompiled }
Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info);
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info);
Napi::Value GetNumThreads(const Napi::CallbackInfo& info);
Napi::Value SetNumThreads(const Napi::CallbackInfo& info);
// OpenMP's thread count is per calling thread: every worker applies the setting before it runs.
void ApplyThreadSetting();
Napi::Value SetAllowTF32(const Napi::CallbackInfo& info);  // cuBLAS and cuDNN alike

}  // namespace finetorch
