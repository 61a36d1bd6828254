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

void NormalizeImages(const uint8_t* in, int64_t n, int64_t h, int64_t w, const std::array<float, 3>& mean,
                     const std::array<float, 3>& std, float* out) {
  // One pass, HWC bytes to CHW floats.
  const auto [scale, shift] = Normalization::Of(mean, std);
  const int64_t plane = h * w;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* image = in + i * plane * 3;
    float* channels = out + i * plane * 3;
    for (int c = 0; c < 3; ++c) {
      float* o = channels + c * plane;
      for (int64_t p = 0; p < plane; ++p) o[p] = image[3 * p + c] * scale[c] + shift[c];
    }
  }
}

}  // namespace finetorch
