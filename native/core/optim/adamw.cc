#include "core/optim/adamw.h"

#include <cmath>
#include <utility>
#include <vector>

namespace finetorch {

AdamW::AdamW(std::vector<std::vector<torch::Tensor>> groups)
    : Optimizer(std::move(groups), {{"step", true}, {"exp_avg", false}, {"exp_avg_sq", false}}) {}

// As torch.optim.AdamW creates it: a CPU float32 step count and zero moments.
std::vector<torch::Tensor> AdamW::initialState(const torch::Tensor& param) const {
  return {torch::zeros({}, torch::kFloat32), torch::zeros_like(param, torch::MemoryFormat::Preserve),
          torch::zeros_like(param, torch::MemoryFormat::Preserve)};
}

// torch.optim.AdamW's single-tensor arithmetic, operation for operation as torch 2.x runs it
// (exp_avg moved by lerp_; torch 1.13's mul_ then add_ rounds differently in the last bit), with the
// gradient as the scratch space of the denominator.
void AdamW::update(torch::Tensor& param, const GroupOptions& o, std::vector<torch::Tensor>& state, bool, size_t) {
  torch::Tensor& stepCount = state[0];
  torch::Tensor& expAvg = state[1];
  torch::Tensor& expAvgSq = state[2];
  torch::Tensor grad = param.mutable_grad();
  stepCount.add_(1);
  param.mul_(1 - o.lr * o.weightDecay);
  expAvg.lerp_(grad, 1 - o.beta1);
  expAvgSq.mul_(o.beta2).addcmul_(grad, grad, 1 - o.beta2);
  double step = stepCount.item<double>();
  double biasCorrection1 = 1 - std::pow(o.beta1, step);
  double biasCorrection2 = 1 - std::pow(o.beta2, step);
  double stepSize = o.lr / biasCorrection1;
  torch::Tensor denom = grad.copy_(expAvgSq).sqrt_().div_(std::sqrt(biasCorrection2)).add_(o.eps);
  param.addcdiv_(expAvg, denom, -stepSize);
}

}  // namespace finetorch
