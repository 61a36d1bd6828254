#include "core/runtime.h"

#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

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
      throw Error(ErrorCode::kDevice,
                  "device '" + name + "' requested, but " + CudaUnavailableReason() + "; use 'cpu'");
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

BuildInfo GetBuildInfo() {
  BuildInfo info;
  info.torchVersion = TORCH_VERSION;
#ifdef FINETORCH_CUDA_BUILD
  info.cudaVersion = FINETORCH_CUDA_VERSION;
  // LibTorch's own cuDNN (major * 10000 + minor * 100 + patch since cuDNN 9), known without a GPU.
  long cudnn = at::detail::getCUDAHooks().versionCuDNN();
  if (cudnn > 0) {
    long major = cudnn >= 90000 ? cudnn / 10000 : cudnn / 1000,
         minor = cudnn >= 90000 ? cudnn / 100 % 100 : cudnn / 100 % 10;
    info.cudnnVersion = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(cudnn % 100);
  }
#endif
  return info;
}

std::string CudaUnavailableReason() {
#ifdef FINETORCH_CUDA_BUILD
  std::string cause = "LibTorch sees no CUDA device";
  try {
    torch::empty({1}, torch::Device(torch::kCUDA));
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    cause = "LibTorch says: " + message.substr(0, message.find('\n'));
  }
  return "this finetorch addon is built against LibTorch " TORCH_VERSION " with CUDA " FINETORCH_CUDA_VERSION
         " and CUDA cannot be used here (" +
         cause + ")";
#else
  return "this finetorch addon is built against LibTorch " TORCH_VERSION
         ", a CPU-only build: for a GPU, install a CUDA build of PyTorch or LibTorch and rebuild finetorch (npm run "
         "build)";
#endif
}

}  // namespace finetorch
