#include "core/autocast.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "core/error.h"

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

AutocastScope::AutocastScope(Amp amp, const torch::Device& device) {
  if (amp == Amp::kNone) return;
  if (!device.is_cuda())
    throw Error(ErrorCode::kDevice, "mixed precision (amp) needs a CUDA device; the model is on " + device.str());
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

}  // namespace finetorch
