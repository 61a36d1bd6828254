#include "core/optim/lars.h"

#include <utility>
#include <vector>

namespace finetorch {

Lars::Lars(std::vector<std::vector<torch::Tensor>> groups) : Optimizer(std::move(groups), {{"mu", false}}) {}

std::vector<torch::Tensor> Lars::initialState(const torch::Tensor& param) const {
  return {torch::zeros_like(param)};
}

// The decayed gradient (in the gradient's own memory, discarded after the step) and its trust
// ratio, for every parameter before any parameter or state changes.
void Lars::prepare(const std::vector<GroupOptions>& options) {
  ratios_.assign(flatParams().size(), torch::Tensor());
  forEachStepping(options, [&](const torch::Tensor& param, const GroupOptions& o, size_t i) {
    if (param.dim() <= 1) return;
    torch::Tensor update = param.grad();
    update.add_(param, o.weightDecay);
    torch::Tensor paramNorm = param.norm();
    torch::Tensor updateNorm = update.norm();
    torch::Tensor one = torch::ones_like(paramNorm);
    ratios_[i] = torch::where(paramNorm > 0,
                              torch::where(updateNorm > 0, paramNorm.mul(o.trustCoefficient) / updateNorm, one), one);
  });
}

void Lars::update(torch::Tensor& param, const GroupOptions& o, std::vector<torch::Tensor>& state, bool, size_t index) {
  torch::Tensor update = param.mutable_grad();
  if (ratios_[index].defined()) update.mul_(ratios_[index]);
  state[0].mul_(o.momentum).add_(update);
  param.add_(state[0], -o.lr);
}

}  // namespace finetorch
