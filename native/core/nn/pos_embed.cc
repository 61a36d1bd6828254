#include "core/nn/pos_embed.h"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"

namespace finetorch {

torch::Tensor InterpolatePosEmbed(const torch::Tensor& posEmbed, int64_t numExtraTokens, int64_t gridSize) {
  const bool shaped = posEmbed.dim() == 3 && posEmbed.size(0) == 1 && posEmbed.size(1) >= numExtraTokens;
  const int64_t gridTokens = shaped ? posEmbed.size(1) - numExtraTokens : 0;
  const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(gridTokens))));
  if (!shaped || side * side != gridTokens || gridTokens == 0 || gridSize < 1 || numExtraTokens < 0) {
    std::ostringstream s;
    s << "a position embedding " << posEmbed.sizes() << " with " << numExtraTokens
      << " extra tokens holds no square grid of patches, so it cannot be interpolated to " << gridSize << "x"
      << gridSize;
    throw Error(ErrorCode::kBadInput, s.str());
  }
  if (side == gridSize) return posEmbed;
  const int64_t dim = posEmbed.size(2);
  torch::NoGradGuard noGrad;
  torch::Tensor extra = posEmbed.slice(1, 0, numExtraTokens);
  torch::Tensor grid = posEmbed.slice(1, numExtraTokens).reshape({-1, side, side, dim}).permute({0, 3, 1, 2});
  grid = torch::nn::functional::interpolate(grid, torch::nn::functional::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{gridSize, gridSize})
                                                      .mode(torch::kBicubic)
                                                      .align_corners(false));
  return torch::cat({extra, grid.permute({0, 2, 3, 1}).flatten(1, 2)}, 1);
}

}  // namespace finetorch
