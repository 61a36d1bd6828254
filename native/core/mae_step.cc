#include "core/mae_step.h"

#include <cmath>
#include <string>

#include "core/error.h"

namespace finetorch {

double MaeTrainStep(MaskedAutoencoderImpl& net, const torch::Tensor& images, const torch::Tensor& noise,
                    double maskRatio, Optimizer& optimizer, const std::vector<GroupOptions>& options) {
  // optimizer.zero_grad() with set_to_none, as torch 2.x does it: a parameter without a gradient
  // is not stepped.
  for (auto& p : net.parameters()) p.mutable_grad().reset();
  MaeOutput out = net.forward(images, noise, maskRatio);
  double loss = out.loss.item<double>();
  if (!std::isfinite(loss)) {
    throw Error(ErrorCode::kNonfiniteLoss,
                "the loss is " + std::to_string(loss) + "; the model and optimizer were left as they were");
  }
  out.loss.backward();
  optimizer.step(options);
  return loss;
}

}  // namespace finetorch
