// Process-wide LibTorch settings and facts: CPU threads, devices.
#pragma once
#include <torch/torch.h>

#include <string>

namespace finetorch {

// LibTorch's intra-op threads; 0 restores LibTorch's default.
void SetRequestedThreads(int threads);
int RequestedThreads();  // the setting, or LibTorch's current count when none was made
// OpenMP's thread count is per calling thread: every worker applies the setting before it runs.
void ApplyThreadSetting();

// "cpu", "cuda", "cuda:1": a clear error when CUDA is asked for and not available.
torch::Device ParseDevice(const std::string& name);

// What this build of the addon can use: the LibTorch it was compiled against, its CUDA version
// (empty for a CPU build) and cuDNN's version as LibTorch reports it (empty where there is none).
struct BuildInfo {
  std::string torchVersion;
  std::string cudaVersion;
  std::string cudnnVersion;
};
BuildInfo GetBuildInfo();
// Why no CUDA device can be used, in LibTorch's own words where it has them.
std::string CudaUnavailableReason();

}  // namespace finetorch
