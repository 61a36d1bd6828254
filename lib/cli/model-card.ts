// What a .pth needs beside it to be used right: architecture, classes, and the eval transform it
// was trained for (image size, resize rule, mean/std). train writes FILE.json beside every FILE.pth
// it saves; eval, predict and inspect read it, so that weights trained at 64 px are not scored at
// 224. A flag that contradicts the card wins, with a warning.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
// From the recipe module alone: train's flag checks read cards and must not load LibTorch or libvips.
import { EvalRecipe, evalRecipe } from '../data/eval-recipe';
import { writeJson } from './files';

export { EvalRecipe, evalRecipe, recipeTransform } from '../data/eval-recipe';

const FORMAT = 'finetorch-model';

export interface ModelCard {
  format: typeof FORMAT;
  version: 1;
  arch: string;
  numClasses: number;
  /** Class names in output order. */
  classes: string[];
  /** The side of the square crops it was trained on. */
  imageSize: number;
  /** How to prepare an image for it: torchvision's Resize + CenterCrop + Normalize. */
  eval: EvalRecipe;
}

/**
 * The preprocessing (and class names) weights come with, and where that was read: a ModelCard
 * beside the file, timm's config.json on the Hub, or torchvision's published transform.
 */
export interface WeightsCard {
  imageSize: number;
  eval: EvalRecipe;
  classes?: string[];
  /** 'best.json', 'timm/resnet50.a1_in1k/config.json', "torchvision's ResNet50_Weights.IMAGENET1K_V2". */
  from: string;
}

export function modelCard(arch: string, classes: readonly string[], imageSize: number): ModelCard {
  return { format: FORMAT, version: 1, arch, numClasses: classes.length, classes: [...classes], imageSize, eval: evalRecipe(imageSize) };
}

/** FILE.json for FILE.pth. */
export function cardFile(weights: string): string {
  const { dir, name } = path.parse(weights);
  return path.join(dir, `${name}.json`);
}

export function writeCard(weights: string, card: ModelCard): Promise<void> {
  return writeJson(cardFile(weights), card);
}

/** The card beside `weights`; undefined when there is none (or the JSON there is something else). */
export async function readCard(weights: string): Promise<ModelCard | undefined> {
  const file = cardFile(weights);
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) return undefined;
  let card: unknown;
  try {
    card = JSON.parse(text);
  } catch {
    return undefined; // not ours: a .json that happens to share the name
  }
  if ((card as { format?: unknown } | null)?.format !== FORMAT) return undefined;
  const c = card as ModelCard;
  const ok = c.version === 1 && typeof c.arch === 'string' && Number.isInteger(c.numClasses) && Array.isArray(c.classes) &&
    c.classes.length === c.numClasses && c.classes.every((x) => typeof x === 'string') && Number.isInteger(c.imageSize) &&
    c.eval && (Number.isInteger(c.eval.resize) || (Array.isArray(c.eval.resize) && c.eval.resize.length === 2)) && Number.isInteger(c.eval.centerCrop) &&
    Array.isArray(c.eval.mean) && Array.isArray(c.eval.std);
  if (!ok) throw new Error(`${file}: a ${FORMAT} card with missing or malformed fields`);
  return c;
}

/**
 * The eval transform for `weights`: the card's, or torchvision's recipe at `imageSize` when the flag
 * is given (warning when it contradicts the card) or there is no card (224 when neither).
 */
export function chooseRecipe(card: WeightsCard | undefined, imageSize: number | undefined, weights: string, warn: (message: string) => void): EvalRecipe {
  if (card && imageSize !== undefined && imageSize !== card.imageSize) {
    warn(`warning: --image-size ${imageSize} differs from the ${card.imageSize} that ${weights} was trained at ` +
      `(${card.from}); using ${imageSize}`);
  }
  if (imageSize === undefined && card) return card.eval;
  return evalRecipe(imageSize ?? 224);
}
