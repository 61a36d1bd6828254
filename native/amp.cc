#include "amp.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "errors.h"

// PyTorch 2.4 made autocast's switches device-generic and deprecated the CUDA-only ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define FINETORCH_DEVICE_GENERIC_AUTOCAST 1
#endif

namespace finetorch {
namespace {

bool CudaAutocastEnabled() {
#ifdef FINETORCH_DEVICE_GENERIC_AUTOCAST
  return at::autocast::is_autocast_enabled(at::kCUDA);
#else
  return at::autocast::is_enabled();
#endif
}

at::ScalarType CudaAutocastDtype() {
#ifdef FINETORCH_DEVICE_GENERIC_AUTOCAST
  return at::autocast::get_autocast_dtype(at::kCUDA);
#else
  return at::autocast::get_autocast_gpu_dtype();
#endif
}

void SetCudaAutocast(bool enabled, at::ScalarType dtype) {
#ifdef FINETORCH_DEVICE_GENERIC_AUTOCAST
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
#else
  at::autocast::set_autocast_gpu_dtype(dtype);
  at::autocast::set_enabled(enabled);
#endif
}

}  // namespace

Amp AmpFromName(const std::string& name) {
  if (name == "none") return Amp::kNone;
  if (name == "fp16") return Amp::kFloat16;
  if (name == "bf16") return Amp::kBFloat16;
  throw UserError("amp must be 'none', 'fp16' or 'bf16', got '" + name + "'");
}

AutocastScope::AutocastScope(Amp amp, const torch::Device& device) {
  if (amp == Amp::kNone) return;
  if (!device.is_cuda()) throw UserError("mixed precision (amp) needs a CUDA device; the model is on " + device.str());
  previousEnabled_ = CudaAutocastEnabled();
  previousDtype_ = CudaAutocastDtype();
  SetCudaAutocast(true, amp == Amp::kFloat16 ? at::kHalf : at::kBFloat16);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Leaving the outermost autocast region drops the cached fp16 copies of the weights.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  SetCudaAutocast(previousEnabled_, previousDtype_);
}

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
