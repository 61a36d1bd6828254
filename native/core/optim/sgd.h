// torch.optim.SGD: momentum, dampening, weight decay, Nesterov.
#pragma once
#include <vector>

#include "core/optim/optimizer.h"

namespace finetorch {

class Sgd : public Optimizer {
 public:
  explicit Sgd(std::vector<std::vector<torch::Tensor>> groups);

 protected:
  bool keepsState(const GroupOptions& o) const override { return o.momentum != 0; }
  std::vector<torch::Tensor> initialState(const torch::Tensor& param) const override;
  void update(torch::Tensor& param, const GroupOptions& o, std::vector<torch::Tensor>& state, bool fresh,
              size_t index) override;
};

}  // namespace finetorch
