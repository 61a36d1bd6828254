#include "core/augment/mixup.h"

#include "core/error.h"

namespace finetorch {
namespace {

torch::Tensor OneHot(const torch::Tensor& labels, int64_t classes, double on, double off) {
  return torch::full({labels.size(0), classes}, off, torch::kFloat32).scatter_(1, labels.view({-1, 1}), on);
}

}  // namespace

void MixImages(torch::Tensor& images, double lam, const std::optional<MixBox>& box) {
  if (images.dim() != 4 || images.scalar_type() != torch::kFloat32) {
    throw Error(ErrorCode::kBadInput, "mixup: images must be float32 [N, C, H, W]");
  }
  if (images.size(0) % 2 != 0) {
    throw Error(ErrorCode::kBadInput,
                "mixup: the batch size must be even (each image mixes with its partner in the "
                "flipped batch), got " +
                    std::to_string(images.size(0)));
  }
  torch::NoGradGuard noGrad;
  if (box) {
    torch::Tensor region = images.slice(2, box->top, box->bottom).slice(3, box->left, box->right);
    region.copy_(region.flip(0));
  } else if (lam != 1) {
    torch::Tensor flipped = images.flip(0).mul_(1 - lam);
    images.mul_(lam).add_(flipped);
  }
}

torch::Tensor MixTargets(const torch::Tensor& labels, int64_t classes, double lam, double smoothing) {
  torch::NoGradGuard noGrad;
  torch::Tensor indices = labels.to(torch::kLong);
  if (indices.numel() > 0 && (indices.min().item<int64_t>() < 0 || indices.max().item<int64_t>() >= classes)) {
    throw Error(ErrorCode::kBadInput, "mixup: a label is out of range for " + std::to_string(classes) + " classes");
  }
  double off = smoothing / static_cast<double>(classes);
  double on = 1 - smoothing + off;
  torch::Tensor mine = OneHot(indices, classes, on, off);
  torch::Tensor partner = OneHot(indices.flip(0), classes, on, off);
  return mine * lam + partner * (1 - lam);
}

}  // namespace finetorch
