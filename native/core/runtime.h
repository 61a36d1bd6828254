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

}  // namespace finetorch
