#include "core/optim/sgd.h"

#include <utility>
#include <vector>

namespace finetorch {

Sgd::Sgd(std::vector<std::vector<torch::Tensor>> groups) : Optimizer(std::move(groups), {{"momentum_buffer", false}}) {}

// Filled with the first step's update, as torch clones it.
std::vector<torch::Tensor> Sgd::initialState(const torch::Tensor& param) const {
  return {torch::empty_like(param, torch::MemoryFormat::Preserve)};
}

// torch.optim.SGD's arithmetic, with the gradient (discarded after the step) as the scratch space.
void Sgd::update(torch::Tensor& param, const GroupOptions& o, std::vector<torch::Tensor>& state, bool fresh, size_t) {
  torch::Tensor step = param.mutable_grad();
  if (o.weightDecay != 0) step.add_(param, o.weightDecay);
  if (o.momentum != 0) {
    torch::Tensor& buffer = state[0];
    if (fresh) {
      buffer.copy_(step);
    } else {
      buffer.mul_(o.momentum).add_(step, 1 - o.dampening);
    }
    if (o.nesterov) {
      step.add_(buffer, o.momentum);
    } else {
      step = buffer;
    }
  }
  param.add_(step, -o.lr);
}

}  // namespace finetorch
