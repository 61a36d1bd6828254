// Crop, resize, crop-with-padding and mirror of 8-bit pixels, resampled as PIL's Image.resize
// does (what torchvision's transforms run on PIL images): separable filters whose support widens
// with the reduction (antialiasing), pixel centres at +0.5, edges clamped to the cropped region.
#pragma once
#include <cstdint>

namespace finetorch {

enum class Interpolation { kNearest = 0, kBilinear = 1, kBicubic = 2 };

struct Box {
  int left, top, width, height;
};

// What to make of a source image: crop `pre`, resize it to resizedWidth x resizedHeight, take
// `post` from that (zeros where it reaches past the edges), mirror left-right if `flipped`.
struct PixelPlan {
  Box pre;
  int resizedWidth, resizedHeight;
  Box post;
  bool flipped;
  Interpolation interpolation;
};

// src: height x width x channels (1 = grey, 3 = RGB); out: post.height x post.width x 3.
void RenderPixels(const uint8_t* src, int width, int height, int channels, const PixelPlan& plan, uint8_t* out);

}  // namespace finetorch
