// Process-wide LibTorch settings and facts.
import { native } from './binding';
import { checkArg, int } from './check';

/** CUDA as this build of the addon sees it (torch.cuda / torch.backends.cuda). */
export const cuda = {
  /** A CUDA device can be used now. */
  isAvailable: (): boolean => native.cudaIsAvailable(),
  deviceCount: (): number => native.cudaDeviceCount(),
  /** The addon was compiled against a CUDA build of LibTorch (torch.backends.cuda.is_built()). */
  isBuilt: (): boolean => native.runtime.cudaVersion !== null,
  /** The CUDA version LibTorch was built with (torch.version.cuda), null for a CPU build. */
  version: native.runtime.cudaVersion,
  /** cuDNN's version as LibTorch reports it, e.g. '9.24.0'; null without cuDNN. */
  cudnnVersion: native.runtime.cudnnVersion,
  /** Why a CUDA device cannot be used here, or null when one can. */
  unavailableReason: (): string | null => (native.cudaIsAvailable() ? null : native.cudaWhyUnavailable()),
};

/**
 * LibTorch's CPU memory. Freed tensor blocks of 64 KiB and more are kept for reuse, because a
 * training step frees and again allocates the same sizes every time, and fresh pages from the
 * kernel cost each step time (README, Benchmarks). A block idle for 10 s (jemalloc's default
 * decay) goes back to the system by itself, so memory no longer used (models dropped, a smaller
 * working set) returns without a call. Idle blocks also stay under a quarter of the machine's
 * memory and, with those in use, under twice the most ever in use at once (the longest idle go
 * back first). emptyCache() gives the idle blocks back at once, as torch.cuda.empty_cache() does
 * for CUDA memory; fineTune, linearProbe and lrFind do so when they end.
 */
export const cpuMemory = {
  cachedBytes: (): number => native.cpuCacheBytes(),
  emptyCache: (): void => native.emptyCpuCache(),
};

/** LibTorch's intra-op CPU threads (torch.set_num_threads). */
export function setNumThreads(threads: number): void {
  native.setNumThreads(checkArg('setNumThreads', 'threads', threads, int({ min: 1, max: 1024 })));
}

export function getNumThreads(): number {
  return native.getNumThreads();
}

/** TF32 matmuls and convolutions on Ampere+ GPUs; off gives fp32-exact results. */
export function setAllowTF32(allow: boolean): void {
  native.setAllowTF32(allow);
}

export const torchVersion = native.runtime.torchVersion;
