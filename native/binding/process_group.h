// The process group of a data-parallel job as JS holds it (lib/dist/process-group.ts): joining a
// job, its collectives, the sampler's permutation, and a model's data-parallel wrapper. A group
// reaches JS as an opaque handle.
#pragma once
#include <napi.h>

namespace finetorch {

// Adds distBackends, distInit, distBarrier, distAllReduce, distDestroy, samplerPermutation,
// distWrapModel, distSyncBuffers and distBuckets to the exports.
void RegisterDist(Napi::Env env, Napi::Object exports);

}  // namespace finetorch
