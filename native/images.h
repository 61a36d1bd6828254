// Batch image preprocessing done in LibTorch, so no JS loop touches a pixel.
#pragma once
#include <napi.h>

namespace finetorch {

// normalizeImages(src: Uint8Array NHWC (c = 3), n, h, w, mean: number[3], std: number[3],
//                 dst: Float32Array NCHW) -> Promise<void>;  dst = (src / 255 - mean) / std
Napi::Value NormalizeImages(const Napi::CallbackInfo& info);

}  // namespace finetorch
