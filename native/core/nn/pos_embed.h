// A learned position embedding resampled to another patch grid, as MAE's util/pos_embed.py
// interpolate_pos_embed does when a checkpoint meets a model of another image size: the extra
// tokens (the class token's) are kept, the grid's embeddings are resized bicubically
// (align_corners=False) as a [D, g, g] image.
#pragma once
#include <torch/torch.h>

namespace finetorch {

// posEmbed [1, numExtraTokens + g*g, D] -> [1, numExtraTokens + gridSize^2, D]; a grid that is
// not square is kBadInput.
torch::Tensor InterpolatePosEmbed(const torch::Tensor& posEmbed, int64_t numExtraTokens, int64_t gridSize);

}  // namespace finetorch
