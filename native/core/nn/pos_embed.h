// Position embeddings outside a model's own parameters. MAE's fixed 2-D sine-cosine table
// (util/pos_embed.py get_2d_sincos_pos_embed); and a learned position embedding resampled to another patch grid, as
// MAE's util/pos_embed.py interpolate_pos_embed does when a checkpoint meets a model of another image size: the extra
// tokens (the class token's) are kept, the grid's embeddings are resized bicubically
// (align_corners=False) as a [D, g, g] image.
#pragma once
#include <torch/torch.h>

namespace finetorch {

// posEmbed [1, numExtraTokens + g*g, D] -> [1, numExtraTokens + gridSize^2, D]; a grid that is
// not square is kBadInput.
torch::Tensor InterpolatePosEmbed(const torch::Tensor& posEmbed, int64_t numExtraTokens, int64_t gridSize);

// MAE's get_2d_sincos_pos_embed(dim, gridSize, cls_token): [clsToken + gridSize^2, dim] float32,
// patch h*gridSize + w holding [sin(w*omega), cos(w*omega), sin(h*omega), cos(h*omega)] with
// omega_k = 1 / 10000^(k / (dim/4)), k < dim/4 (the column first, as MAE's meshgrid puts it); the
// class token's row is zeros. dim must be a multiple of 4 (kBadInput otherwise).
torch::Tensor SinCosPosEmbed2d(int64_t dim, int64_t gridSize, bool clsToken);

}  // namespace finetorch
