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

namespace {

// MAE's get_1d_sincos_pos_embed_from_grid, in float32 as its numpy code computes it.
torch::Tensor SinCos1d(int64_t dim, const torch::Tensor& positions) {
  torch::Tensor omega = torch::arange(dim / 2, torch::kFloat32) / (static_cast<double>(dim) / 2.0);
  omega = 1.0 / torch::pow(10000.0, omega);
  torch::Tensor angles = torch::outer(positions, omega);
  return torch::cat({angles.sin(), angles.cos()}, 1);
}

}  // namespace

torch::Tensor SinCosPosEmbed2d(int64_t dim, int64_t gridSize, bool clsToken) {
  if (dim < 4 || dim % 4 != 0 || gridSize < 1) {
    throw Error(ErrorCode::kBadInput,
                "a 2-D sine-cosine position embedding needs a width that is a multiple of 4 "
                "and a grid of at least 1x1, got width " +
                    std::to_string(dim) + " and grid " + std::to_string(gridSize));
  }
  torch::Tensor steps = torch::arange(gridSize, torch::kFloat32);
  torch::Tensor columns = steps.repeat({gridSize});
  torch::Tensor rows = steps.repeat_interleave(gridSize);
  torch::Tensor table = torch::cat({SinCos1d(dim / 2, columns), SinCos1d(dim / 2, rows)}, 1);
  if (clsToken) table = torch::cat({torch::zeros({1, dim}), table}, 0);
  return table;
}

}  // namespace finetorch
