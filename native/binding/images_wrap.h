// Image preprocessing entry points: the core's resampler and normaliser on the libuv pool.
#pragma once
#include <napi.h>

namespace finetorch {

// normalizeImages({ src: Uint8Array NHWC, n, height, width, mean: [3], std: [3], dst: Float32Array NCHW })
//   -> Promise<void>
Napi::Value NormalizeImages(const Napi::CallbackInfo& info);

// renderPixels({ src: Uint8Array HWC, width, height, channels: 1 | 3, plan: PixelPlan, dst })
//   -> Promise<void>; plan = { pre: Box, resized: { width, height }, post: Box, flipped,
//   interpolation: 'nearest' | 'bilinear' | 'bicubic' } (see core/resample.h)
Napi::Value RenderPixels(const Napi::CallbackInfo& info);

}  // namespace finetorch
