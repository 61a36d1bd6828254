// Mixed precision on CUDA: autocast around the forward pass and the loss, as torch.autocast.
#pragma once
#include <torch/torch.h>

#include <string>

namespace finetorch {

enum class Amp { kNone, kFloat16, kBFloat16 };

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

}  // namespace finetorch
