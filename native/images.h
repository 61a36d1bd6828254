// Image preprocessing in native code, so no JS loop touches a pixel.
#pragma once
#include <napi.h>

namespace finetorch {

// normalizeImages(src: Uint8Array NHWC (c = 3), n, h, w, mean: number[3], std: number[3],
//                 dst: Float32Array NCHW) -> Promise<void>;  dst = (src / 255 - mean) / std
Napi::Value NormalizeImages(const Napi::CallbackInfo& info);

// renderPixels(src: Uint8Array HWC, width, height, channels (1 | 3),
//              plan: [pre l, t, w, h, resized w, h, post l, t, w, h, flipped, interpolation],
//              dst: Uint8Array post.h x post.w x 3) -> Promise<void>  (see resample.h)
Napi::Value RenderPixels(const Napi::CallbackInfo& info);

}  // namespace finetorch
