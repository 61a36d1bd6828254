// timm's weight initialisers (timm/layers/weight_init.py), drawing from torch's global generator in
// the same order and by the same operations, so a seeded model gets timm's numbers.
#pragma once
#include <torch/torch.h>

namespace finetorch {

// timm's trunc_normal_(tensor, mean, std, a, b): a normal(mean, std) cut to [a, b] (absolute
// bounds, not in stds), by the inverse CDF of a uniform draw.
void TruncNormal_(torch::Tensor tensor, double std, double mean = 0.0, double a = -2.0, double b = 2.0);

}  // namespace finetorch
