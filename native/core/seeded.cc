#include "core/seeded.h"

#include <torch/torch.h>

#include <mutex>

namespace finetorch {

void Seeded(std::optional<uint64_t> seed, const std::function<void()>& init) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  if (seed) torch::manual_seed(*seed);
  init();
}

}  // namespace finetorch
