// What a .pth needs beside it to be used right: architecture, classes, and the eval transform it
// was trained for (image size, resize rule, mean/std). train writes FILE.json beside every FILE.pth
// it saves; eval, predict and inspect read it, so that weights trained at 64 px are not scored at
// 224. A flag that contradicts the card wins, with a warning.
import * as path from 'node:path';
// From the recipe module alone: train's flag checks read cards and must not load LibTorch or libvips.
import { EvalRecipe, ResizeRule, evalRecipe } from '../data/eval-recipe';
import { FinetorchError } from '../base/errors';
import { readJsonFile, writeJson } from './files';

export { EvalRecipe, ResizeRule, evalRecipe, recipeTransform } from '../data/eval-recipe';

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

export function modelCard(arch: string, classes: readonly string[], imageSize: number, rule: ResizeRule = {}): ModelCard {
  return { format: FORMAT, version: 1, arch, numClasses: classes.length, classes: [...classes], imageSize, eval: evalRecipe(imageSize, rule) };
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
  const read = await readJsonFile(file);
  // Not ours when it is no JSON, or JSON of another format: a .json that happens to share the name.
  const card = read && 'value' in read ? read.value : undefined;
  if ((card as { format?: unknown } | null | undefined)?.format !== FORMAT) return undefined;
  const c = card as ModelCard;
  const ok = c.version === 1 && typeof c.arch === 'string' && Number.isInteger(c.numClasses) && Array.isArray(c.classes) &&
    c.classes.length === c.numClasses && c.classes.every((x) => typeof x === 'string') && Number.isInteger(c.imageSize) &&
    c.eval && (Number.isInteger(c.eval.resize) || (Array.isArray(c.eval.resize) && c.eval.resize.length === 2)) &&
    [undefined, 'squash', 'center'].includes(c.eval.cropMode) && Number.isInteger(c.eval.centerCrop) &&
    Array.isArray(c.eval.mean) && Array.isArray(c.eval.std);
  if (!ok) throw new FinetorchError('ERR_FINETORCH_INVALID_ARG', `${file}: a ${FORMAT} card with missing or malformed fields`);
  return c;
}

/** What --image-size, --crop-mode and --crop-pct say, undefined where absent. */
export interface RecipeFlags extends ResizeRule {
  imageSize?: number;
}

/**
 * The eval transform for `weights`: the card's, with what the flags change (a warning for each
 * that contradicts the card). Without a card, torchvision's recipe at --image-size, else 224.
 */
export function chooseRecipe(card: WeightsCard | undefined, flags: RecipeFlags, weights: string, warn: (message: string) => void): EvalRecipe {
  const cardValues = card && { 'image-size': card.imageSize, 'crop-mode': card.eval.cropMode ?? 'squash', 'crop-pct': card.eval.cropPct };
  const given = { 'image-size': flags.imageSize, 'crop-mode': flags.cropMode, 'crop-pct': flags.cropPct };
  for (const [flag, value] of Object.entries(given)) {
    const trained = cardValues?.[flag as keyof typeof given];
    if (cardValues && value !== undefined && value !== trained) {
      warn(`warning: --${flag} ${value} differs from the ${trained ?? '224/256'} that ${weights} was trained with ` +
        `(${card.from}); using ${value}`);
    }
  }
  if (card && Object.values(given).every((v) => v === undefined)) return card.eval;
  return evalRecipe(flags.imageSize ?? card?.imageSize ?? 224, {
    cropMode: flags.cropMode ?? card?.eval.cropMode, cropPct: flags.cropPct ?? card?.eval.cropPct, interpolation: card?.eval.interpolation,
  });
}
