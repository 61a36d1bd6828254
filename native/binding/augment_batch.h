// Batch augmentations on a batch buffer JS holds, in place, on the libuv pool: timm's Mixup/CutMix
// and RandomErasing (core/augment/). JS draws the random numbers and passes them here.
#pragma once
#include <napi.h>

namespace finetorch {

// mixBatch({ input: HostTensor float32 [N, C, H, W], labels: HostTensor int32 | int64 [N],
//   numClasses, lam, box: { top, bottom, left, right } | null, labelSmoothing })
//   -> Promise<HostTensor float32 [N, numClasses]>: input mixed in place, the mixed targets.
Napi::Value MixBatch(const Napi::CallbackInfo& info);

// eraseBatch({ input: HostTensor float32 [N, C, H, W], boxes: { image, top, left, height, width,
//   seed }[], fill: 'const' | 'rand' | 'pixel' }) -> Promise<void>: input erased in place.
Napi::Value EraseBatch(const Napi::CallbackInfo& info);

}  // namespace finetorch
