#include "core/augment/erasing.h"

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace finetorch {
namespace {

// splitmix64: a seed-per-box generator whose output does not depend on the platform's <random>.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  // A double in (0, 1).
  double open01() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (static_cast<double>(z >> 11) + 0.5) / 9007199254740992.0;
  }
  // A standard normal value (Box-Muller).
  float normal() {
    if (spare_) {
      spare_ = false;
      return static_cast<float>(second_);
    }
    double radius = std::sqrt(-2 * std::log(open01()));
    double angle = 2 * std::numbers::pi * open01();
    second_ = radius * std::sin(angle);
    spare_ = true;
    return static_cast<float>(radius * std::cos(angle));
  }

 private:
  uint64_t state_;
  double second_ = 0;
  bool spare_ = false;
};

}  // namespace

void EraseBoxes(torch::Tensor& images, const std::vector<EraseBox>& boxes, EraseFill fill) {
  if (images.dim() != 4 || images.scalar_type() != torch::kFloat32 || !images.is_contiguous()) {
    throw Error(ErrorCode::kBadInput, "random erasing: images must be contiguous float32 [N, C, H, W]");
  }
  const int64_t n = images.size(0), channels = images.size(1), height = images.size(2), width = images.size(3);
  for (const auto& b : boxes) {
    if (b.image < 0 || b.image >= n || b.top < 0 || b.left < 0 || b.height < 1 || b.width < 1 ||
        b.top + b.height > height || b.left + b.width > width) {
      throw Error(ErrorCode::kBadInput, "random erasing: a box lies outside the batch's " + std::to_string(height) +
                                            "x" + std::to_string(width) + " images");
    }
  }
  float* data = images.data_ptr<float>();
  for (const auto& b : boxes) {
    SplitMix rng(b.seed);
    for (int64_t c = 0; c < channels; ++c) {
      // torch.empty((C, h, w)).normal_() in C, h, w order; (C, 1, 1) for one value per channel.
      float channelValue = fill == EraseFill::kPerChannel ? rng.normal() : 0.0f;
      for (int64_t y = b.top; y < b.top + b.height; ++y) {
        float* row = data + ((b.image * channels + c) * height + y) * width;
        for (int64_t x = b.left; x < b.left + b.width; ++x) {
          row[x] = fill == EraseFill::kPerPixel ? rng.normal() : channelValue;
        }
      }
    }
  }
}

}  // namespace finetorch
