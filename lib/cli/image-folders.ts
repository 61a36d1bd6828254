// Where the CLI's images come from: a folder holding train/ and valid/ (or val/, test/) class
// folders, or one folder of class folders split at random; and the transform on each side.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Dataset, DatasetError, ImageDecodeError, ImageFolder, OnError, Subset, Transform, randomSplit, trainTransform } from '../data';
import { ResizeRule, evalRecipe, recipeTransform } from './model-card';
import { counted } from './progress';
import type { Augmentation } from './settings';

const VALID_FOLDERS = ['valid', 'val', 'test'];

/** torchvision's eval recipe scaled to the image size: resize to size*256/224 (square or the shorter side), centre-crop size. */
export function evalPipeline(imageSize: number, rule: ResizeRule = {}): Transform {
  return recipeTransform(evalRecipe(imageSize, rule));
}

export function trainPipeline(imageSize: number, augmentation: Partial<Augmentation> = {}): Transform {
  return trainTransform({ size: imageSize, ...augmentation });
}

function isDirectory(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** The train/ and valid/ (val/, test/) subfolders of `dir`, when it is laid out that way. */
function splitFolders(dir: string): { train?: string; valid?: string } {
  const train = path.join(dir, 'train');
  const valid = VALID_FOLDERS.map((name) => path.join(dir, name)).find(isDirectory);
  return { train: isDirectory(train) ? train : undefined, valid };
}

export interface TrainData {
  classes: string[];
  train: Dataset;
  /** Undefined with --valid-split 0 on a folder without a valid/ folder: no validation. */
  valid: Dataset | undefined;
  /** Where each side came from, for the log. */
  description: string;
  /** What each side's images go through. */
  transforms: { train: Transform; valid: Transform };
}

export function trainData(
  dir: string,
  options: {
    imageSize: number; validSplit: number; seed: number; shrinkOnLoad: boolean; augmentation: Augmentation; resizeRule?: ResizeRule;
    /** In place of trainPipeline(imageSize, augmentation): another recipe's (MAE's). */
    trainTransform?: Transform;
  },
): TrainData {
  const { imageSize, validSplit, seed, shrinkOnLoad, augmentation, resizeRule } = options;
  const transforms = { train: options.trainTransform ?? trainPipeline(imageSize, augmentation), valid: evalPipeline(imageSize, resizeRule) };
  const folders = splitFolders(dir);
  const train = new ImageFolder(folders.train ?? dir, { transform: transforms.train, shrinkOnLoad });
  if (train.classes.length < 2) {
    throw new DatasetError(`${train.root} holds one class folder (${train.classes[0]}): a classifier needs at least 2, ` +
      'one folder of images per class');
  }
  if (folders.train && folders.valid) {
    const valid = new ImageFolder(folders.valid, { transform: transforms.valid, shrinkOnLoad });
    checkSameClasses(train, valid);
    return checked(transforms, train.classes, train, valid, `${train.length} training images in ${train.root}, ${valid.length} validation images in ${valid.root}`);
  }
  if (validSplit === 0) return checked(transforms, train.classes, train, undefined, `${train.length} images in ${train.root}, none held out (--valid-split 0)`);
  const [trainPart, validPart] = randomSplit(train, [1 - validSplit, validSplit], seed);
  // The split picks indices; each side then sees the samples through its own transform.
  return checked(transforms, train.classes, new Subset(train, trainPart.indices),
    new Subset(train.withTransform(transforms.valid), validPart.indices),
    `${train.length} images in ${train.root}, ${validPart.length} of them held out for validation (--valid-split ${validSplit}, --seed ${seed})`);
}

function checked(
  transforms: TrainData['transforms'], classes: string[], train: Dataset, valid: Dataset | undefined, description: string,
): TrainData {
  if (train.length === 0) throw new DatasetError(`no training images left: ${description}`);
  if (valid?.length === 0) throw new DatasetError(`no validation images: ${description}; raise --valid-split or add images`);
  return { classes, train, valid, description, transforms };
}

function checkSameClasses(train: ImageFolder, valid: ImageFolder): void {
  const missing = train.classes.filter((c) => !valid.classes.includes(c));
  const extra = valid.classes.filter((c) => !train.classes.includes(c));
  if (missing.length || extra.length) {
    const parts = [missing.length && `missing ${missing.join(', ')}`, extra.length && `extra ${extra.join(', ')}`].filter(Boolean);
    throw new DatasetError(`the class folders of ${valid.root} differ from those of ${train.root}: ${parts.join('; ')}`);
  }
}

/** The images `finetorch eval` scores: the valid/ (val/, test/) folder of a train/valid layout, else `dir`. */
export function evalData(dir: string, transform: Transform, shrinkOnLoad: boolean): ImageFolder {
  const folders = splitFolders(dir);
  const root = folders.train && folders.valid ? folders.valid : dir;
  return new ImageFolder(root, { transform, shrinkOnLoad });
}


/**
 * --skip-bad-images: the loaders leave out an image that cannot be decoded (taking the next one), and
 * each such file is named once, in `report`. Without the flag, the first one stops the command.
 */
export class BadImages {
  /** File -> why it could not be decoded. */
  readonly files = new Map<string, string>();
  readonly onError: OnError;

  readonly #report: (message: string) => void;

  constructor(skip: boolean, report: (message: string) => void) {
    this.#report = report;
    this.onError = skip ? (error: ImageDecodeError) => this.#skip(error) : 'throw';
  }

  /** The files left out, as the commands' JSON gives them. */
  list(): { image: string; error: string }[] {
    return [...this.files].map(([image, error]) => ({ image, error }));
  }

  /** "2 images could not be decoded and were left out (--skip-bad-images)", or '' when none were. */
  summary(): string {
    const n = this.files.size;
    return n === 0 ? '' : `${counted(n, 'image')} could not be decoded and ${n === 1 ? 'was' : 'were'} left out (--skip-bad-images)`;
  }

  #skip(error: ImageDecodeError): void {
    if (this.files.has(error.file)) return;
    this.files.set(error.file, error.message);
    this.#report(`left out (--skip-bad-images): ${error.message}`);
  }
}
