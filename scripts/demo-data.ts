// The data sets the transformer demo runs on (Fashion-MNIST on this machine, CIFAR-10 for a user
// who has it), read by the positions protocol.json lists and relabelled 0, 1, ... in the order of
// the classes used.
import { Batch, CIFAR10, compose, DataLoader, FashionMNIST, normalize, Subset, toTensor } from '../lib/data';
import { FASHION_MNIST, fashionMnistLabels } from './demo-protocol';

export const DATA_NAMES = ['fashion-mnist', 'cifar10'] as const;
export type DataName = (typeof DATA_NAMES)[number];

export interface DemoData {
  name: DataName;
  root: string;
  /** Per-channel mean and std of the training images (a grey image's one value on all three channels). */
  mean: number[];
  std: number[];
  /** Side of the (square) images. */
  imageSize: number;
}

/**
 * Fashion-MNIST's mean and std are the ResNet demo's; CIFAR-10's are the per-channel mean and std
 * of its 50,000 training images.
 */
export function demoData(name: DataName, root?: string): DemoData {
  if (name === 'fashion-mnist') return { name, root: root ?? FASHION_MNIST, mean: [0.286, 0.286, 0.286], std: [0.353, 0.353, 0.353], imageSize: 28 };
  if (root === undefined) throw new Error('--data cifar10 needs the folder of its binary version (data_batch_1.bin ... test_batch.bin)');
  return { name, root, mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616], imageSize: 32 };
}

function images(data: DemoData, train: boolean): FashionMNIST | CIFAR10 {
  const transform = compose(toTensor(), normalize(data.mean, data.std));
  return data.name === 'fashion-mnist' ? new FashionMNIST(data.root, { train, transform }) : new CIFAR10(data.root, { train, transform });
}

/** The original label of every image of the train or test file. */
export function labelsOf(data: DemoData, train: boolean): ArrayLike<number> {
  return data.name === 'fashion-mnist' ? fashionMnistLabels(data.root, train) : new CIFAR10(data.root, { train }).targets;
}

/** A BatchSource whose batches hold class indices as Int32Array. */
export type LabelledBatches = AsyncIterable<Batch<Int32Array>> & { length: number; setEpoch(epoch: number): void };

/**
 * Batches of the images at `positions`, labelled by their place in `classes`; reshuffled every
 * epoch (seeded) when `shuffle`, else in the order of `positions`.
 */
export function batches(data: DemoData, train: boolean, classes: readonly number[], positions: number[],
  options: { batchSize: number; seed: number; shuffle: boolean }): LabelledBatches {
  const loader = new DataLoader(new Subset(images(data, train), positions), options);
  const relabel = new Map(classes.map((c, i) => [c, i]));
  return {
    length: loader.length,
    setEpoch: (epoch: number) => loader.setEpoch(epoch),
    async* [Symbol.asyncIterator]() {
      for await (const b of loader) yield { input: b.input, target: Int32Array.from(b.target, (t) => relabel.get(Number(t))!) };
    },
  };
}
