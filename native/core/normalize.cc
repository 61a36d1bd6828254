#include "core/normalize.h"

namespace finetorch {

Normalization Normalization::Of(const std::array<float, 3>& mean, const std::array<float, 3>& std) {
  Normalization n;
  for (int c = 0; c < 3; ++c) {
    n.scale[c] = 1 / (255 * std[c]);
    n.shift[c] = -mean[c] / std[c];
  }
  return n;
}

void NormalizeImage(const uint8_t* in, int64_t h, int64_t w, int channels, const Normalization& normalization,
                    float* out) {
  // One pass per output plane, HWC bytes to CHW floats.
  const auto& [scale, shift] = normalization;
  const int64_t plane = h * w;
  for (int c = 0; c < 3; ++c) {
    const uint8_t* from = in + (channels == 3 ? c : 0);
    float* o = out + c * plane;
    for (int64_t p = 0; p < plane; ++p) o[p] = from[channels * p] * scale[c] + shift[c];
  }
}

}  // namespace finetorch
