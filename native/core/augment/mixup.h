// timm's Mixup and CutMix in batch mode (timm.data.mixup.Mixup with mode='batch'): every image
// mixed with its partner in the flipped batch (i with N-1-i), by blending (mixup) or by pasting a
// box of the partner (cutmix), and the targets mixed to match. The random draws are the caller's.
#pragma once
#include <torch/torch.h>

#include <optional>

namespace finetorch {

// Rows [top, bottom) and columns [left, right) of every image.
struct MixBox {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
};

// Mixes images [N, C, H, W] float32 in place: x * lam + flip(x) * (1 - lam) (nothing for lam 1),
// or with a box, the box's pixels taken from flip(x). N must be even.
void MixImages(torch::Tensor& images, double lam, const std::optional<MixBox>& box);

// timm's mixup_target: smoothed one-hot targets [N, classes] float32 mixed with the flipped batch's.
torch::Tensor MixTargets(const torch::Tensor& labels, int64_t classes, double lam, double smoothing);

}  // namespace finetorch
