// Loading whichever family a .pth holds: what the CLI uses when a file may hold either.
import type { Arch } from './resnet-architectures';
import { Device, readWeights } from './model';
import { ResNet } from './resnet';
import { familyOf, familyOfArch } from './infer';
import { VisionTransformer } from './vit';

/**
 * The model a .pth holds, of either family (a finetorch checkpoint's too); `arch`, when given,
 * must be what it holds. A ViT is made for `imgSize` images (its position embedding interpolated
 * from the file's, as MAE does), when given with `globalPool` (a ResNet has no such choice) and
 * `numHeads` attention heads (a Hub config's).
 */
export async function loadModel(
  file: string, options: { arch?: string; device?: Device; imgSize?: number; globalPool?: 'token' | 'avg'; numHeads?: number } = {},
): Promise<ResNet | VisionTransformer> {
  const { arch, device, imgSize, globalPool, numHeads } = options;
  const family = (arch && familyOfArch(arch)) ?? familyOf((await readWeights(file)).shapes.keys());
  return family === 'resnet'
    ? ResNet.load(file, { arch: arch as Arch | undefined, device })
    : VisionTransformer.load(file, { arch, device, imgSize, globalPool, numHeads });
}
