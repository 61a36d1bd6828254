// Which family a state dict holds (read off its keys) and what it is, without LibTorch (inspect
// and checkpoint reading use it before any model is built).
import { ReprStyle, moduleRepr, withMaeProbeHead } from './module-tree';
import { ARCHITECTURES, ARCH_NAMES, inferArch, resnetTree } from './resnet-architectures';
import { inferVit, parseVitArch, vitArchName, vitTree } from './vit-architectures';
import { fromTorchvision, vitLayoutOf } from './vit-layouts';

export type ModelFamily = 'resnet' | 'vit';

/** A ViT's keys have a patch embedding (timm's patch_embed, torchvision's conv_proj); anything else is read as a ResNet's. */
export function familyOf(keys: Iterable<string>): ModelFamily {
  for (const key of keys) if (key.startsWith('patch_embed.') || key.startsWith('conv_proj.')) return 'vit';
  return 'resnet';
}

/** The family an architecture name belongs to, or undefined for a name of neither. */
export function familyOfArch(arch: string): ModelFamily | undefined {
  if ((ARCH_NAMES as readonly string[]).includes(arch)) return 'resnet';
  return parseVitArch(arch) ? 'vit' : undefined;
}

export interface InferredModel {
  family: ModelFamily;
  /** torchvision's ResNet name, timm's ViT name, or 'VisionTransformer' for a ViT of no named size. */
  arch: string;
  /** Undefined: a ViT encoder without a head. */
  numClasses: number | undefined;
  /** print(model) of it in timm's or torchvision's classes, as the PyTorch of `style` writes it. */
  repr(style: ReprStyle): string;
}

/** What a state dict holds; shapes that fit neither family are an ERR_FINETORCH_STATE_DICT. */
export function inferModel(shapes: ReadonlyMap<string, readonly number[]>, source: string): InferredModel {
  if (familyOf(shapes.keys()) === 'resnet') {
    const { arch, numClasses } = inferArch(shapes, source);
    return { family: 'resnet', arch, numClasses, repr: (style) => moduleRepr(resnetTree(ARCHITECTURES[arch], numClasses, style)) };
  }
  const timm = vitLayoutOf(shapes.keys()) === 'torchvision' ? fromTorchvision(shapes, source) : shapes;
  const { config, numHeads, numClasses, maeProbeHead } = inferVit(timm, source);
  const arch = (numHeads === undefined ? undefined : vitArchName({ ...config, numHeads })) ?? 'VisionTransformer';
  const tree = (style: ReprStyle) => vitTree(config, numClasses ?? 0, style);
  return {
    family: 'vit', arch, numClasses,
    repr: (style) => moduleRepr(maeProbeHead && numClasses !== undefined ? withMaeProbeHead(tree(style), 'head', config.embedDim, numClasses!, style) : tree(style)),
  };
}
