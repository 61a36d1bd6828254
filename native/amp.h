// Mixed precision on CUDA: autocast around forward and loss, and a dynamic loss scaler for fp16
// with torch.cuda.amp.GradScaler's rules (LibTorch has no C++ GradScaler).
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace finetorch {

enum class Amp { kNone, kFloat16, kBFloat16 };

Amp AmpFromName(const std::string& name);  // "none" | "fp16" | "bf16"

// Autocast for the enclosing scope on CUDA; nothing for Amp::kNone. Throws for AMP off CUDA.
class AutocastScope {
 public:
  AutocastScope(Amp amp, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool previousEnabled_ = false;
  at::ScalarType previousDtype_ = at::kHalf;
};

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
