#include "core/runtime.h"

#include <atomic>
#include <optional>

#include "core/error.h"

namespace finetorch {
namespace {

std::atomic<int> requestedThreads{0};  // 0: LibTorch's default

}  // namespace

void SetRequestedThreads(int threads) {
  requestedThreads = threads;
  if (threads > 0) torch::set_num_threads(threads);
}

int RequestedThreads() {
  int threads = requestedThreads.load();
  return threads > 0 ? threads : torch::get_num_threads();
}

void ApplyThreadSetting() {
  int threads = requestedThreads.load();
  if (threads > 0 && torch::get_num_threads() != threads) torch::set_num_threads(threads);
}

torch::Device ParseDevice(const std::string& name) {
  std::optional<torch::Device> parsed;
  try {
    parsed.emplace(name);
  } catch (const c10::Error&) {
    throw Error(ErrorCode::kDevice, "unsupported device '" + name + "': use 'cpu', 'cuda' or 'cuda:N'");
  }
  torch::Device device = *parsed;
  if (device.is_cuda()) {
    if (!torch::cuda::is_available()) {
      throw Error(ErrorCode::kDevice, "device '" + name +
                                          "' requested but CUDA is not available (this LibTorch has no CUDA support or "
                                          "no NVIDIA GPU is visible); use 'cpu'");
    }
    if (device.has_index() && device.index() >= static_cast<int64_t>(torch::cuda::device_count())) {
      throw Error(ErrorCode::kDevice, "device '" + name + "' requested but only " +
                                          std::to_string(torch::cuda::device_count()) + " CUDA device(s) exist");
    }
  } else if (!device.is_cpu()) {
    throw Error(ErrorCode::kDevice, "unsupported device '" + name + "': use 'cpu', 'cuda' or 'cuda:N'");
  }
  return device;
}

}  // namespace finetorch
