// LARS as MAE's util/lars.py (from MoCo v3) defines it: weight decay and the trust ratio
// (trust coefficient x |param| / |update|) only for parameters of more than one dimension, then
// heavy-ball momentum without dampening.
#pragma once
#include <vector>

#include "core/optim/optimizer.h"

namespace finetorch {

class Lars : public Optimizer {
 public:
  explicit Lars(std::vector<std::vector<torch::Tensor>> groups);

 protected:
  void prepare(const std::vector<GroupOptions>& options) override;
  std::vector<torch::Tensor> initialState(const torch::Tensor& param) const override;
  void update(torch::Tensor& param, const GroupOptions& o, std::vector<torch::Tensor>& state, bool fresh,
              size_t index) override;

 private:
  std::vector<torch::Tensor> ratios_;  // this step's trust ratio per flat parameter (ndim > 1 only)
};

}  // namespace finetorch
