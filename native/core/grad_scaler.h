// Dynamic loss scaling for fp16 training with torch.cuda.amp.GradScaler's rules, on the same
// _amp_* ops (LibTorch has no C++ GradScaler).
#pragma once
#include <torch/torch.h>

#include <vector>

namespace finetorch {

class GradScaler {
 public:
  static constexpr double kInitScale = 65536.0, kGrowthFactor = 2.0, kBackoffFactor = 0.5;
  static constexpr int64_t kGrowthInterval = 2000;

  torch::Tensor scale(const torch::Tensor& loss);
  // Unscales the gradients in place; true when they are all finite (the step may be taken).
  bool unscale(const std::vector<torch::Tensor>& grads);
  // Halves the scale after a non-finite step, doubles it after kGrowthInterval good ones.
  void update();
  double currentScale() const { return scale_.defined() ? scale_.item<double>() : kInitScale; }

 private:
  torch::Tensor scale_, growthTracker_, foundInf_;
};

}  // namespace finetorch
