// SGD with parameter groups, step for step the arithmetic of torch.optim.SGD. Group
// hyper-parameters live in JS (opt.paramGroups) and arrive with every step, so a change to a
// group's lr takes effect at the next step; only parameters and momentum buffers live here.
#pragma once
#include <torch/torch.h>

#include <vector>

namespace finetorch {

struct SgdOptions {
  double lr = 0;
  double momentum = 0;
  double dampening = 0;
  double weightDecay = 0;
  bool nesterov = false;
};

class Sgd {
 public:
  explicit Sgd(std::vector<std::vector<torch::Tensor>> groups);

  // options.size() must equal the number of groups.
  void step(const std::vector<SgdOptions>& options);

  size_t groupCount() const { return groups_.size(); }
  // Parameters in group order, as torch's optimizer state_dict indexes them.
  std::vector<torch::Tensor> flatParams() const;
  // One momentum buffer per flat parameter (undefined where none exists yet).
  std::vector<torch::Tensor>& momentumBuffers() { return momentum_; }

 private:
  std::vector<std::vector<torch::Tensor>> groups_;
  std::vector<torch::Tensor> momentum_;
};

}  // namespace finetorch
