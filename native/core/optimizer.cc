#include "core/optimizer.h"

#include <utility>

#include "core/error.h"

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
  if (options.size() != groups_.size()) {
    throw Error(ErrorCode::kBadInput, "SGD: options for every parameter group are required");
  }
  torch::NoGradGuard noGrad;
  // Every allocation first (the momentum buffers a first step creates), then only in-place
  // arithmetic: once parameters start to change, nothing can fail, so a failed step changes nothing.
  std::vector<torch::Tensor> fresh(momentum_.size());
  size_t index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (const auto& param : groups_[g]) {
      size_t i = index++;
      if (options[g].momentum != 0 && param.grad().defined() && !momentum_[i].defined()) {
        fresh[i] = torch::empty_like(param, torch::MemoryFormat::Preserve);
      }
    }
  }
  // torch.optim.SGD's arithmetic, with the gradient (discarded after the step) as the scratch space.
  index = 0;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const SgdOptions& o = options[g];
    for (auto& param : groups_[g]) {
      size_t i = index++;
      if (!param.grad().defined()) continue;
      torch::Tensor step = param.mutable_grad();
      if (o.weightDecay != 0) step.add_(param, o.weightDecay);
      if (o.momentum != 0) {
        torch::Tensor& buffer = momentum_[i];
        if (fresh[i].defined()) {
          buffer = fresh[i].copy_(step);
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
  }
}

}  // namespace finetorch
