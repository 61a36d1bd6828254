// The model side of the LibTorch commands: whether the device exists, and loading a .pth onto it.
import { Device, ResNet18 } from '../model';
import { cuda } from '../runtime';
import { requireFile } from './files';

export function checkDevice(device: Device): void {
  if (device === 'cpu') return;
  const index = Number(device.split(':')[1] ?? 0);
  if (!cuda.isAvailable()) throw new Error(`--device ${device}: CUDA is not available (no GPU, or a CPU-only LibTorch)`);
  if (index >= cuda.deviceCount()) throw new Error(`--device ${device}: there are only ${cuda.deviceCount()} CUDA devices`);
}

/** A ResNet-18 from a .pth (or a finetorch checkpoint), its class count read from fc.weight. */
export async function loadModel(weights: string, device: Device): Promise<ResNet18> {
  checkDevice(device);
  await requireFile(weights, 'weights file');
  return ResNet18.load(weights, { device });
}
