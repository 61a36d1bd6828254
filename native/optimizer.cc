#include "optimizer.h"

#include "errors.h"

namespace finetorch {

Sgd::Sgd(std::vector<std::vector<torch::Tensor>> groups) : groups_(std::move(groups)) {
  size_t count = 0;
  for (const auto& group : groups_) count += group.size();
  momentum_.resize(count);
}

std::vector<torch::Tensor> Sgd::flatParams() const {
  std::vector<torch::Tensor> flat;
  for (const auto& group : groups_) flat.insert(flat.end(), group.begin(), group.end());
  return flat;
}

void Sgd::step(const std::vector<SgdOptions>& options) {
  if (options.size() != groups_.size()) throw UserError("SGD: options for every parameter group are required");
  torch::NoGradGuard noGrad;
  size_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const SgdOptions& o = options[g];
    for (auto& param : groups_[g]) {
      torch::Tensor& buffer = momentum_[index++];
      if (!param.grad().defined()) continue;
      torch::Tensor step = param.grad();
      if (o.weightDecay != 0) step = step.add(param, o.weightDecay);
      if (o.momentum != 0) {
        if (!buffer.defined()) {
          buffer = step.clone().detach();
        } else {
          buffer.mul_(o.momentum).add_(step, 1 - o.dampening);
        }
        step = o.nesterov ? step.add(buffer, o.momentum) : buffer;
      }
      param.add_(step, -o.lr);
    }
  }
}

}  // namespace finetorch
