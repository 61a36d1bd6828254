// Module registration only.
#include <napi.h>

#include "binding/addon_data.h"
#include "binding/augment_batch.h"
#include "binding/mae_wrap.h"
#include "binding/model_wrap.h"
#include "binding/optimizer_wrap.h"
#include "binding/pos_embed.h"
#include "binding/process_group.h"
#include "binding/render_batch.h"
#include "binding/runtime.h"
#include "core/cpu_allocator.h"

namespace finetorch {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  UseCachingCpuAllocator();
  auto* data = new AddonData{Napi::Persistent(ModelWrap::Define(env)), Napi::Persistent(MaeWrap::Define(env))};
  env.SetInstanceData(data);
  exports.Set("createModel", Napi::Function::New<ModelWrap::Create>(env, "createModel"));
  exports.Set("Optimizer", OptimizerWrap::Define(env));
  exports.Set("mixBatch", Napi::Function::New<MixBatch>(env, "mixBatch"));
  exports.Set("eraseBatch", Napi::Function::New<EraseBatch>(env, "eraseBatch"));
  exports.Set("createMae", Napi::Function::New<MaeWrap::Create>(env, "createMae"));
  exports.Set("interpolatePosEmbed", Napi::Function::New<InterpolatePosEmbed>(env, "interpolatePosEmbed"));
  exports.Set("renderBatch", Napi::Function::New<RenderBatch>(env, "renderBatch"));
  exports.Set("imageBackends", ImageBackends(env));
  exports.Set("cudaIsAvailable", Napi::Function::New<CudaIsAvailable>(env, "cudaIsAvailable"));
  exports.Set("cudaWhyUnavailable", Napi::Function::New<CudaWhyUnavailable>(env, "cudaWhyUnavailable"));
  exports.Set("cudaDeviceCount", Napi::Function::New<CudaDeviceCount>(env, "cudaDeviceCount"));
  exports.Set("getNumThreads", Napi::Function::New<GetNumThreads>(env, "getNumThreads"));
  exports.Set("setNumThreads", Napi::Function::New<SetNumThreads>(env, "setNumThreads"));
  exports.Set("setAllowTF32", Napi::Function::New<SetAllowTF32>(env, "setAllowTF32"));
  exports.Set("cpuCacheBytes", Napi::Function::New<CpuCacheBytes>(env, "cpuCacheBytes"));
  exports.Set("emptyCpuCache", Napi::Function::New<EmptyCpuCache>(env, "emptyCpuCache"));
  exports.Set("runtime", RuntimeInfo(env));
  RegisterDist(env, exports);
  return exports;
}

NODE_API_MODULE(finetorch, Init)

}  // namespace finetorch
