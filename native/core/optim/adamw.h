// torch.optim.AdamW (amsgrad off): decoupled weight decay, bias-corrected moments.
#pragma once
#include <vector>

#include "core/optim/optimizer.h"

namespace finetorch {

class AdamW : public Optimizer {
 public:
  explicit AdamW(std::vector<std::vector<torch::Tensor>> groups);

 protected:
  std::vector<torch::Tensor> initialState(const torch::Tensor& param) const override;
  void update(torch::Tensor& param, const GroupOptions& o, std::vector<torch::Tensor>& state, bool fresh,
              size_t index) override;
};

}  // namespace finetorch
