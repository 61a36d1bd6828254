#include "core/grad_scaler.h"

namespace finetorch {

torch::Tensor GradScaler::scale(const torch::Tensor& loss) {
  if (!scale_.defined()) {
    auto options = torch::TensorOptions().device(loss.device());
    scale_ = torch::full({1}, kInitScale, options.dtype(torch::kFloat32));
    growthTracker_ = torch::zeros({1}, options.dtype(torch::kInt32));
  }
  return loss * scale_.to(loss.scalar_type());
}

bool GradScaler::unscale(const std::vector<torch::Tensor>& grads) {
  foundInf_ = torch::zeros({1}, scale_.options());
  torch::Tensor invScale = scale_.to(torch::kFloat64).reciprocal().to(torch::kFloat32);
  if (!grads.empty()) at::_amp_foreach_non_finite_check_and_unscale_(grads, foundInf_, invScale);
  return foundInf_.item<float>() == 0.0f;
}

void GradScaler::update() {
  at::_amp_update_scale_(scale_, growthTracker_, foundInf_, kGrowthFactor, kBackoffFactor, kGrowthInterval);
}

}  // namespace finetorch
