// Image entry points: one batch of images made by the core (core/batch.h) on native threads.
#pragma once
#include <napi.h>

namespace finetorch {

// renderBatch({ items, out?: Float32Array, mean: [3], std: [3], threads, maxPixels, memoryBudget })
//   -> Promise<(null | { unsupported: string } | { error: string })[]>, one entry per item.
// An item: { file, scale } (a file the core decodes; scale 1, 2, 4 or 8) or { pixels: Uint8Array,
// width, height, channels: 1 | 3 }; with view: { pre, resized, post, flipped, interpolation } and
// either offset (into out: normalised float32 CHW) or bytes (a Uint8Array: 8-bit RGB HWC).
Napi::Value RenderBatch(const Napi::CallbackInfo& info);

// { jpeg: "libjpeg-turbo 2.1.5" } where the core decodes JPEGs, {} otherwise.
Napi::Object ImageBackends(Napi::Env env);

}  // namespace finetorch
