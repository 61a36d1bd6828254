// What --weights names, and the preprocessing that comes with it: a file (a .pth or .safetensors;
// the card finetorch wrote beside it, if any), a torchvision name (resnet50, or
// ResNet50_Weights.IMAGENET1K_V2: from torch.hub's cache, with torchvision's eval transform) or an
// hf-hub: id (timm's, from the Hugging Face Hub cache, with the eval transform its config.json gives).
import * as path from 'node:path';
import * as fs from 'node:fs';
import { ARCH_NAMES, Arch } from '../model/resnet-architectures';
import { listWeights, pretrainedWeights } from '../model/torchvision-weights';
import { isHubId } from '../model/timm-ids';
import type { TimmConfig } from '../model/timm-config';
import { IMAGENET_MEAN, IMAGENET_STD } from '../data/transforms';
import type { Flags } from './args';
import { requireFile } from './files';
import { WeightsCard, cardFile, readCard } from './model-card';

export interface WeightsSource {
  file: string;
  card: WeightsCard | undefined;
  /** A Hub ViT's attention heads, which its config.json names and its weights cannot tell. */
  numHeads?: number;
}

/** --weights as given: a path made absolute, a torchvision name or Hub id as it is. */
export function weightsFlag(flags: Flags): string {
  const value = flags.required('weights');
  return isHubId(value) || (torchvisionName(value) && !fs.existsSync(value)) ? value : path.resolve(value);
}

/** The file --weights names (downloaded first when a name or id is not cached yet) and its card. */
export async function resolveWeights(weights: string): Promise<WeightsSource> {
  const progress = Boolean(process.stderr.isTTY);
  if (isHubId(weights)) {
    const got = await pretrainedWeights(weights, { progress });
    return { file: got.file, card: timmCard(got.config, `${got.repoId}/config.json`), numHeads: got.config.vit?.numHeads };
  }
  const name = torchvisionName(weights);
  if (name && !fs.existsSync(weights)) {
    const got = await pretrainedWeights(name.arch, { weights: name.weights, progress });
    const { resizeSize, cropSize } = got.transforms;
    return {
      file: got.file,
      card: {
        imageSize: cropSize, from: `torchvision's ${got.enumName}`,
        // torchvision's ImageClassification transform: Resize(resizeSize) of the shorter side, then the crop.
        eval: { resize: resizeSize, cropMode: 'center', interpolation: 'bilinear', centerCrop: cropSize, mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] },
      },
    };
  }
  await requireFile(weights, 'weights file');
  const card = await readCard(weights);
  return { file: weights, card: card && { ...card, from: path.basename(cardFile(weights)) } };
}

/** timm's eval transform (resolve_data_config + transforms_imagenet_eval) for a Hub config. */
export function timmCard(config: TimmConfig, from: string): WeightsCard {
  const size = config.inputSize[1];
  const scaled = Math.floor(size / config.cropPct);
  return {
    imageSize: size, from, classes: config.labelNames,
    eval: {
      // 'center' resizes the shorter side (aspect kept), 'squash' both sides.
      resize: config.cropMode === 'center' ? scaled : [scaled, scaled], cropMode: config.cropMode, cropPct: config.cropPct,
      interpolation: config.interpolation, centerCrop: size, mean: [...config.mean], std: [...config.std],
    },
  };
}

/** A warning when weights were trained with another normalisation than the ImageNet mean/std finetorch train uses. */
export function trainingNormalizationWarning(weights: string, card: WeightsCard | undefined): string | undefined {
  if (!card) return undefined;
  const same = (a: readonly number[], b: readonly number[]) => a.every((v, i) => Math.abs(v - b[i]) < 1e-6);
  if (same(card.eval.mean, IMAGENET_MEAN) && same(card.eval.std, IMAGENET_STD)) return undefined;
  return `warning: ${weights} was trained on images normalized with mean [${card.eval.mean}] and std [${card.eval.std}] (${card.from}); ` +
    `finetorch train normalizes with ImageNet's mean [${IMAGENET_MEAN}] and std [${IMAGENET_STD}]`;
}

/** 'resnet50' (its DEFAULT weights) or torchvision's full name 'ResNet50_Weights.IMAGENET1K_V2' ('.DEFAULT'). */
function torchvisionName(value: string): { arch: Arch; weights: string } | undefined {
  if ((ARCH_NAMES as readonly string[]).includes(value)) return { arch: value as Arch, weights: 'DEFAULT' };
  const [enumClass, member] = value.split('.');
  const arch = listWeights().find((w) => w.enumName.startsWith(`${enumClass}.`))?.arch;
  return arch && member ? { arch, weights: value } : undefined;
}
