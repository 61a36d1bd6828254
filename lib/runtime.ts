// Process-wide LibTorch settings and facts.
import { native } from './binding';
import { checkArg, int } from './check';

export const cuda = {
  isAvailable: (): boolean => native.cudaIsAvailable(),
  deviceCount: (): number => native.cudaDeviceCount(),
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
