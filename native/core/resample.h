// Crop, resize, crop-with-padding and mirror of 8-bit pixels, resampled as PIL's Image.resize
// does (what torchvision's transforms run on PIL images): separable filters whose support widens
// with the reduction (antialiasing), pixel centres at +0.5, edges clamped to the cropped region.
#pragma once
#include <cstdint>
#include <optional>

#include "core/normalize.h"

namespace finetorch {

enum class Interpolation { kNearest = 0, kBilinear = 1, kBicubic = 2 };

struct Box {
  int left, top, width, height;
};

// A sub-pixel rectangle inside `pre`, in its pixels (a crop box of a DCT-scaled decode).
struct Window {
  double left, top, width, height;
};

// What to make of a source image: crop `pre`, resize it to resizedWidth x resizedHeight, take
// `post` from that (zeros where it reaches past the edges), mirror left-right if `flipped`. With a
// `window`, the resize maps that part of `pre` onto the resized size instead of all of it (PIL's
// resize(box=...)); edges still clamp to `pre`.
struct PixelPlan {
  Box pre;
  int resizedWidth, resizedHeight;
  Box post;
  bool flipped;
  Interpolation interpolation;
  std::optional<Window> window;
};

// src: height x width x channels (1 = grey, 3 = RGB); out: post.height x post.width x 3.
void RenderPixels(const uint8_t* src, int width, int height, int channels, const PixelPlan& plan, uint8_t* out);

// The same pixels normalised as toTensor + normalize make them: out is 3 planes of post.height x
// post.width floats (padding is black, normalised).
void RenderPixels(const uint8_t* src, int width, int height, int channels, const PixelPlan& plan,
                  const Normalization& normalization, float* out);

}  // namespace finetorch
