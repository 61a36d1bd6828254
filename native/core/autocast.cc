#include "core/autocast.h"

#include <ATen/autocast_mode.h>

#include "core/error.h"

// FINETORCH_DEVICE_GENERIC_AUTOCAST comes from CMake, which compiles a call of the device-generic
// switches (PyTorch 2.4+) against this LibTorch; older ones have a CPU and a CUDA set of switches.
namespace finetorch {
namespace {

bool AutocastEnabled(c10::DeviceType type) {
#ifdef FINETORCH_DEVICE_GENERIC_AUTOCAST
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

at::ScalarType AutocastDtype(c10::DeviceType type) {
#ifdef FINETORCH_DEVICE_GENERIC_AUTOCAST
  return at::autocast::get_autocast_dtype(type);
#else
  return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                       : at::autocast::get_autocast_cpu_dtype();
#endif
}

void SetAutocast(c10::DeviceType type, bool enabled, at::ScalarType dtype) {
#ifdef FINETORCH_DEVICE_GENERIC_AUTOCAST
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

}  // namespace

AutocastScope::AutocastScope(Amp amp, const torch::Device& device) {
  if (amp == Amp::kNone) return;
  if (!device.is_cuda() && !device.is_cpu()) {
    throw Error(ErrorCode::kDevice, "mixed precision (amp) runs on CUDA or the CPU; the model is on " + device.str());
  }
  if (device.is_cpu() && amp == Amp::kFloat16) {
    throw Error(ErrorCode::kDevice,
                "fp16 autocast needs a CUDA device; on the CPU use bf16 (as torch.autocast('cpu') does)");
  }
  type_ = device.type();
  previousEnabled_ = AutocastEnabled(type_);
  previousDtype_ = AutocastDtype(type_);
  SetAutocast(type_, true, amp == Amp::kFloat16 ? at::kHalf : at::kBFloat16);
  at::autocast::increment_nesting();
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Leaving the outermost autocast region drops the cached low-precision copies of the weights.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  SetAutocast(type_, previousEnabled_, previousDtype_);
}

}  // namespace finetorch
