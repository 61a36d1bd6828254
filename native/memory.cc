#include "memory.h"

namespace finetorch {

int64_t HostBytes(const std::vector<torch::Tensor>& tensors) {
  int64_t bytes = 0;
  for (const auto& t : tensors) {
    if (t.defined() && t.device().is_cpu()) bytes += t.numel() * t.element_size();
  }
  return bytes;
}

}  // namespace finetorch
