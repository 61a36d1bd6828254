// toTensor + normalize for a batch: uint8 NHWC pixels to float32 NCHW, (x / 255 - mean) / std.
#pragma once
#include <array>
#include <cstdint>

namespace finetorch {

// (x / 255 - mean) / std  ==  x * scale + shift, per channel.
struct Normalization {
  std::array<float, 3> scale, shift;
  static Normalization Of(const std::array<float, 3>& mean, const std::array<float, 3>& std);
};

void NormalizeImages(const uint8_t* in, int64_t n, int64_t h, int64_t w, const std::array<float, 3>& mean,
                     const std::array<float, 3>& std, float* out);

}  // namespace finetorch
