// LibTorch's CPU memory, kept for reuse between steps.
#pragma once
#include <cstddef>

namespace finetorch {

// Makes LibTorch allocate CPU tensors through a cache of freed blocks: a training step frees and
// again allocates the same activation and gradient sizes every time, and glibc hands blocks that
// big back to the kernel, so without the cache each step's memory is fresh pages, faulted in by
// the kernel (their cost: README, Benchmarks). A block idle for 10 s goes back by itself.
// Idempotent.
void UseCachingCpuAllocator();

// Blocks the cache holds now, not in use by any tensor.
size_t IdleCpuCacheBytes();
// Gives them back to the system (as torch.cuda.empty_cache does for CUDA memory).
void ReleaseCpuCache();

}  // namespace finetorch
