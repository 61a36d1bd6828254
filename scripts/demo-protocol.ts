// The demo's protocol as data: every hyper-parameter and every image index, written to
// protocol.json so that scripts/demo_pytorch.py runs exactly the same experiment in PyTorch.
import { FashionMNIST } from '../lib/data';
import { mulberry32, randperm } from '../lib/data/random';

export const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

/** The d2l fine-tuning chapter's optimizer: SGD, fc at fcLrMult x lr, weight decay, no momentum. */
export interface Recipe {
  lr: number;
  fcLrMult: number;
  weightDecay: number;
  momentum: number;
  batchSize: number;
}

export interface Settings {
  sourcePerClass: number;
  sourceEpochs: number;
  targetPerClass: number;
  targetEpochs: number;
  seeds: number;
  testPerClass: number;
}

export interface Protocol {
  data: string;
  /** Fashion-MNIST's pixel mean and std, applied to all three channels of the grey image. */
  mean: number;
  std: number;
  sourceClasses: number[];
  targetClasses: number[];
  recipe: Recipe;
  settings: Settings;
  /** A batch loss above this counts as a divergence (NaN and infinity always do). */
  maxLoss: number;
  /** Positions in the IDX files (train file for source/target, t10k file for the tests). */
  indices: { source: number[]; sourceTest: number[]; target: number[][]; test: number[] };
}

export const RECIPE: Recipe = { lr: 0.01, fcLrMult: 10, weightDecay: 1e-3, momentum: 0, batchSize: 32 };
export const SOURCE_CLASSES = [0, 1, 2, 3, 4];
export const TARGET_CLASSES = [5, 6, 7, 8, 9];

/**
 * How each run trains, derived from the one recipe as in the d2l chapter: from scratch every layer
 * gets fcLrMult x lr (the source model is trained this way too); fine-tuning keeps lr for the
 * pretrained layers and fcLrMult x lr for the new fc; the linear probe's fc gets the same fcLrMult x lr.
 */
export const METHODS = ['scratch', 'linear probe', 'fine-tune'] as const;
export type Method = (typeof METHODS)[number];

/**
 * `count` positions of each of `classes` among `labels` (one original label per position of the
 * data set's files), chosen with `seed`: a seeded permutation of the positions of those classes,
 * each class taken until it has `count`.
 */
export function perClass(labels: ArrayLike<number>, classes: readonly number[], count: number, seed: number): number[] {
  const kept = positionsOf(labels, classes);
  const taken = new Map<number, number>();
  const picked: number[] = [];
  for (const i of randperm(kept.length, mulberry32(seed))) {
    const t = labels[kept[i]];
    if ((taken.get(t) ?? 0) < count) {
      taken.set(t, (taken.get(t) ?? 0) + 1);
      picked.push(kept[i]);
    }
  }
  return picked;
}

/** Every position of `classes` among `labels`, in file order. */
export function positionsOf(labels: ArrayLike<number>, classes: readonly number[]): number[] {
  return Array.from(labels, (label, i) => (classes.includes(label) ? i : -1)).filter((i) => i >= 0);
}

/**
 * The images each part of the experiment uses, from the original labels of the train and test
 * files. The source model is tested on every test image of its classes, or on `sourceTestPerClass`
 * of each.
 */
export function chooseIndices(settings: Settings, labels: { train: ArrayLike<number>; test: ArrayLike<number> },
  sourceTestPerClass?: number): Protocol['indices'] {
  return {
    source: perClass(labels.train, SOURCE_CLASSES, settings.sourcePerClass, 1234),
    sourceTest: sourceTestPerClass === undefined ? positionsOf(labels.test, SOURCE_CLASSES) : perClass(labels.test, SOURCE_CLASSES, sourceTestPerClass, 98),
    target: Array.from({ length: settings.seeds }, (_, seed) => perClass(labels.train, TARGET_CLASSES, settings.targetPerClass, seed)),
    test: perClass(labels.test, TARGET_CLASSES, settings.testPerClass, 99),
  };
}

/** The original labels of Fashion-MNIST's train or test file. */
export function fashionMnistLabels(data: string, train: boolean): Int32Array {
  return new FashionMNIST(data, { train }).targets;
}

export function makeProtocol(settings: Settings, data = FASHION_MNIST): Protocol {
  return {
    data, mean: 0.286, std: 0.353, sourceClasses: SOURCE_CLASSES, targetClasses: TARGET_CLASSES, recipe: RECIPE, settings, maxLoss: 100,
    indices: chooseIndices(settings, { train: fashionMnistLabels(data, true), test: fashionMnistLabels(data, false) }),
  };
}
