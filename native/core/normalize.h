// toTensor + normalize: uint8 HWC pixels to float32 CHW, (x / 255 - mean) / std.
#pragma once
#include <array>
#include <cstdint>

namespace finetorch {

// (x / 255 - mean) / std  ==  x * scale + shift, per channel.
struct Normalization {
  std::array<float, 3> scale, shift;
  static Normalization Of(const std::array<float, 3>& mean, const std::array<float, 3>& std);
};

// `channels` 1 (grey, made RGB as PIL's convert('RGB') does) or 3.
void NormalizeImage(const uint8_t* in, int64_t h, int64_t w, int channels, const Normalization& normalization,
                    float* out);

}  // namespace finetorch
