// Mixed precision: autocast around the forward pass and the loss, as torch.autocast. On CUDA fp16
// or bf16; on the CPU bf16, as torch.autocast('cpu') does it.
#pragma once
#include <torch/torch.h>

#include <string>

namespace finetorch {

enum class Amp { kNone, kFloat16, kBFloat16 };

// Autocast for the enclosing scope on the device's type; nothing for Amp::kNone. Throws kDevice
// for fp16 off CUDA.
class AutocastScope {
 public:
  AutocastScope(Amp amp, const torch::Device& device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType type_ = c10::DeviceType::CPU;
  bool previousEnabled_ = false;
  at::ScalarType previousDtype_ = at::kHalf;
};

}  // namespace finetorch
