// Vision Transformer speed: finetorch against PyTorch (test/python/bench_vit.py) in the same run,
// on the same weights (a ViT-S/16 state dict finetorch saves and timm loads) and at the same pinned
// number of compute threads:
//  - a training step of ViT-S/16 at 224 px with AdamW;
//  - a linear probe of several epochs: finetorch's feature cache (the backbone runs once, then
//    only the head steps) against PyTorch's frozen loop (the backbone in eval mode under no_grad
//    every epoch).
// The Python side is timm's model on the toolchain whose Python has timm
// (node scripts/toolchain.js run pytorch-2.14.1 -- node dist/scripts/bench-vit.js); on one without
// timm (Debian's torch 1.13) it runs a timm-free transcription of the same network, and says so.
// Usage: node dist/scripts/bench-vit.js [--batch 8] [--steps 4] [--threads 1[,2]] [--rounds 2]
//   [--probe-batches 4] [--probe-epochs 5]
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { AdamW, Batch, linearProbe, savePth, setNumThreads, torchVersion, VisionTransformer } from '../lib';
import { HostTensor } from '../lib/base/tensor';
import { inBenchScratch } from './bench-scratch';
import { runPython } from './reference-python';
import { positiveInteger, runScript } from './script-flags';

export interface VitBenchOptions {
  /** Images per training step; default 8 (LibTorch 1.x: 2, see defaultSizes). */
  batch?: number;
  /** Timed training steps per round (after one warm-up step); default 4 (1.x: 2). */
  steps?: number;
  /** Compute thread counts, each pinned on both sides; default [1]. */
  threads?: number[];
  /** Rounds per setting, the two sides taking turns; default 2 (1.x: 1). */
  rounds?: number;
  /** Batches (of `batch` images) in the probe's epoch; default 4 (1.x: 2). */
  probeBatches?: number;
  /** Probe epochs; default 5. */
  probeEpochs?: number;
  log?: (line: string) => void;
}

const SIZE = 224;
const CLASSES = 10;

function randomBatches(count: number, batch: number): Batch[] {
  return Array.from({ length: count }, (_, k) => ({
    input: { dtype: 'float32', shape: [batch, 3, SIZE, SIZE], data: Float32Array.from({ length: batch * 3 * SIZE * SIZE }, (_, i) => Math.sin(i * 0.37 + k)) } as HostTensor,
    target: Int32Array.from({ length: batch }, (_, i) => (i + k) % CLASSES),
  }));
}

const load = (file: string) => VisionTransformer.load(file, { arch: 'vit_small_patch16_224' });

/** Seconds per training step: one warm-up step, then `steps` timed ones, as the Python side. */
async function trainSteps(file: string, batch: number, steps: number): Promise<number> {
  const net = await load(file);
  try {
    const optimizer = new AdamW(net.parameters(), { lr: 1e-4, weightDecay: 0.05 });
    const data = randomBatches(2, batch);
    await net.trainStep(data[0].input, data[0].target, optimizer);
    const start = performance.now();
    for (let i = 0; i < steps; i++) await net.trainStep(data[i % 2].input, data[i % 2].target, optimizer);
    return (performance.now() - start) / 1000 / steps;
  } finally {
    net.dispose();
  }
}

/** Seconds of a cached linear probe (features once, then head steps), the probe's SGD as the Python side's. */
async function cachedProbe(file: string, batch: number, batches: number, epochs: number): Promise<number> {
  const net = await load(file);
  try {
    const train = randomBatches(batches, batch);
    const start = performance.now();
    await linearProbe(net, { train, epochs, lr: 0.1, momentum: 0.9, weightDecay: 0, featureCache: true });
    return (performance.now() - start) / 1000;
  } finally {
    net.dispose();
  }
}

const fixed = (values: number[], digits: number): string => values.map((v) => v.toFixed(digits)).join(' / ');

/**
 * The sizes when none are given. On LibTorch 1.x (Debian's 1.13 here) a ViT runs several times
 * slower than on 2.x (README, Benchmarks): smaller ones there, so that the section stays within
 * minutes; the output says which.
 */
function defaultSizes(): Required<Omit<VitBenchOptions, 'threads' | 'log'>> {
  return Number(torchVersion.split('.')[0]) < 2
    ? { batch: 2, steps: 2, rounds: 1, probeBatches: 2, probeEpochs: 5 }
    : { batch: 8, steps: 4, rounds: 2, probeBatches: 4, probeEpochs: 5 };
}

export async function runVitBench(options: VitBenchOptions = {}): Promise<void> {
  const { threads = [1], log = console.log } = options;
  const { batch, steps, rounds, probeBatches, probeEpochs } = { ...defaultSizes(), ...options };
  await inBenchScratch('finetorch-bench-vit-', async (dir) => {
    const file = path.join(dir, 'vit_small_patch16_224.pth');
    const net = await VisionTransformer.create({ arch: 'vit_small_patch16_224', numClasses: CLASSES, seed: 0 });
    await savePth(file, await net.stateDict());
    net.dispose();
    const python = (command: string, args: number[]) => runPython('bench_vit.py', [command, file, ...args.map(String)]).then((out) => JSON.parse(out));
    log(`\nViT-S/16 (vit_small_patch16_224, ${CLASSES} classes) at ${SIZE} px on LibTorch ${torchVersion}, the same weights on both sides; ` +
      `${rounds} round${rounds > 1 ? 's' : ''} per setting, ` +
      'the two sides taking turns (the machine\'s speed drifts).');
    const trainRows = [];
    const probeRows = [];
    let pythonModel = '';
    for (const n of threads) {
      setNumThreads(n);
      const train: { ours: number; theirs: number }[] = [];
      const probe: { ours: number; theirs: number }[] = [];
      for (let round = 0; round < rounds; round++) {
        const ours = await trainSteps(file, batch, steps);
        const theirs = await python('train', [batch, steps, n]);
        pythonModel = `${theirs.model}, torch ${theirs.torch}`;
        train.push({ ours, theirs: theirs.secondsPerStep });
      }
      for (let round = 0; round < rounds; round++) {
        const ours = await cachedProbe(file, batch, probeBatches, probeEpochs);
        const theirs = await python('probe', [batch, probeBatches, probeEpochs, n]);
        probe.push({ ours, theirs: theirs.seconds });
      }
      trainRows.push({
        threads: `both ${n}`, 'finetorch s/step': fixed(train.map((r) => r.ours), 2), 'PyTorch s/step': fixed(train.map((r) => r.theirs), 2),
        'finetorch img/s': fixed(train.map((r) => batch / r.ours), 1), 'PyTorch / finetorch time': fixed(train.map((r) => r.theirs / r.ours), 2),
      });
      probeRows.push({
        threads: `both ${n}`, 'finetorch cached s': fixed(probe.map((r) => r.ours), 2), 'PyTorch frozen loop s': fixed(probe.map((r) => r.theirs), 2),
        'PyTorch / finetorch time': fixed(probe.map((r) => r.theirs / r.ours), 2),
      });
    }
    log(`PyTorch side: ${pythonModel}.`);
    log(`\nTraining step: batch ${batch}, AdamW (lr 1e-4, weight decay 0.05), ${steps} timed steps after one warm-up step`);
    console.table(trainRows);
    log(`\nLinear probe: ${probeEpochs} epochs of ${probeBatches} x ${batch} images, the head by SGD (lr 0.1, momentum 0.9); ` +
      'finetorch computes the features once, PyTorch runs the frozen backbone every epoch');
    console.table(probeRows);
  });
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string' }, steps: { type: 'string' }, threads: { type: 'string', default: '1' },
      rounds: { type: 'string' }, 'probe-batches': { type: 'string' }, 'probe-epochs': { type: 'string' },
    },
  });
  const positive = (name: string, text: string | undefined) => (text === undefined ? undefined : positiveInteger(name, text));
  const given = {
    batch: positive('batch', values.batch), steps: positive('steps', values.steps), rounds: positive('rounds', values.rounds),
    probeBatches: positive('probe-batches', values['probe-batches']), probeEpochs: positive('probe-epochs', values['probe-epochs']),
  };
  runScript(runVitBench({
    ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
    threads: values.threads!.split(',').map((t) => positiveInteger('threads', t)),
  }));
}
