// MAE pretraining speed: finetorch's MaskedAutoencoder.trainStep against models_mae.py's step in
// PyTorch (test/python/bench_mae.py) in the same run, on the same weights (the state dict finetorch
// saves, MAE's keys) and at the same pinned number of compute threads; and each side's MAE step
// against its own unmasked step (the same encoder as a classifier on every patch): the encoder
// seeing a quarter of the patches is where MAE's training saving comes from.
// Usage: node dist/scripts/bench-mae.js [--arch mae_vit_base_patch16] [--batch 4] [--steps 2]
//   [--threads 1] [--rounds 2] [--mask-ratio 0.75]
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { AdamW, loadPth, MaskedAutoencoder, paramGroupsWeightDecay, savePth, setNumThreads, VisionTransformer } from '../lib';
import type { HostTensor } from '../lib/base/tensor';
import { MAE_ARCHS, MaeArch } from '../lib/model/mae-architectures';
import { inBenchScratch } from './bench-scratch';
import { runPython } from './reference-python';
import { positiveInteger, runScript, usageError } from './script-flags';

export interface MaeBenchOptions {
  /** One of MAE's sizes; default mae_vit_base_patch16 (ViT-B/16 encoder, 512-wide 8-block decoder). */
  arch?: MaeArch;
  /** Images per step; default 4. */
  batch?: number;
  /** Timed steps per round (after one warm-up step); default 2. */
  steps?: number;
  /** Compute thread counts, each pinned on both sides; default [1]. */
  threads?: number[];
  /** Rounds per setting, the two sides taking turns; default 2. */
  rounds?: number;
  /** Default 0.75, MAE's. */
  maskRatio?: number;
  log?: (line: string) => void;
}

const SIZE = 224;
const CLASSES = 10;

function images(batch: number, k: number): HostTensor<'float32'> {
  return { dtype: 'float32', shape: [batch, 3, SIZE, SIZE], data: Float32Array.from({ length: batch * 3 * SIZE * SIZE }, (_, i) => Math.sin(i * 0.37 + k)) };
}

/** Seconds per step of fn(i): one warm-up step, then `steps` timed ones, as the Python side. */
async function timed(steps: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  await fn(0);
  const start = performance.now();
  for (let i = 0; i < steps; i++) await fn(i);
  return (performance.now() - start) / 1000 / steps;
}

async function maeSteps(file: string, arch: MaeArch, batch: number, steps: number, maskRatio: number): Promise<number> {
  const mae = await MaskedAutoencoder.create({ arch });
  try {
    await mae.loadStateDict(await loadPth(file) as Map<string, HostTensor>, { strict: true });
    const optimizer = new AdamW(paramGroupsWeightDecay(mae.parameters(), { weightDecay: 0.05 }), { lr: 1e-4, betas: [0.9, 0.95] });
    const data = [images(batch, 0), images(batch, 1)];
    return await timed(steps, (i) => mae.trainStep(data[i % 2], optimizer, { maskRatio, noiseSeed: i }));
  } finally {
    await mae.dispose();
  }
}

async function unmaskedSteps(arch: MaeArch, batch: number, steps: number): Promise<number> {
  const { patchSize, embedDim, depth, numHeads } = MAE_ARCHS[arch];
  const net = await VisionTransformer.create({ imgSize: SIZE, patchSize, embedDim, depth, numHeads, numClasses: CLASSES, seed: 0 });
  try {
    const optimizer = new AdamW(net.parameters(), { lr: 1e-4, weightDecay: 0.05 });
    const data = [images(batch, 0), images(batch, 1)];
    const target = Int32Array.from({ length: batch }, (_, i) => i % CLASSES);
    return await timed(steps, (i) => net.trainStep(data[i % 2], target, optimizer));
  } finally {
    net.dispose();
  }
}

const fixed = (values: number[], digits: number): string => values.map((v) => v.toFixed(digits)).join(' / ');

export async function runMaeBench(options: MaeBenchOptions = {}): Promise<void> {
  const { arch = 'mae_vit_base_patch16', batch = 4, steps = 2, threads = [1], rounds = 2, maskRatio = 0.75, log = console.log } = options;
  const { patchSize, embedDim, depth, numHeads } = MAE_ARCHS[arch];
  const config = { img_size: SIZE, patch_size: patchSize, embed_dim: embedDim, depth, num_heads: numHeads, mlp_ratio: 4 };
  await inBenchScratch('finetorch-bench-mae-', async (dir) => {
    const file = path.join(dir, `${arch}.pth`);
    const mae = await MaskedAutoencoder.create({ arch, seed: 0 });
    await savePth(file, await mae.stateDict());
    await mae.dispose();
    const python = (args: (string | number)[]) => runPython('bench_mae.py', args.map(String)).then((out) => JSON.parse(out));
    log(`\nMAE pretraining step: ${arch} at ${SIZE} px, batch ${batch}, mask ratio ${maskRatio}, AdamW (betas 0.9/0.95, weight decay 0.05), ` +
      `${steps} timed steps after one warm-up step; the unmasked step is the same encoder as a ${CLASSES}-class classifier on every patch ` +
      `(no decoder). ${rounds} rounds per setting, the two sides taking turns.`);
    const rows = [];
    let pythonModel = '';
    for (const n of threads) {
      setNumThreads(n);
      const runs: { ours: number; theirs: number; oursUnmasked: number; theirsUnmasked: number }[] = [];
      for (let round = 0; round < rounds; round++) {
        const ours = await maeSteps(file, arch, batch, steps, maskRatio);
        const theirs = await python(['mae', file, JSON.stringify(config), batch, steps, n, maskRatio]);
        const oursUnmasked = await unmaskedSteps(arch, batch, steps);
        const theirsUnmasked = await python(['vit', JSON.stringify(config), batch, steps, n]);
        pythonModel = `${theirs.model}, torch ${theirs.torch}`;
        runs.push({ ours, theirs: theirs.secondsPerStep, oursUnmasked, theirsUnmasked: theirsUnmasked.secondsPerStep });
      }
      rows.push({
        threads: `both ${n}`, 'finetorch MAE s/step': fixed(runs.map((r) => r.ours), 2), 'PyTorch MAE s/step': fixed(runs.map((r) => r.theirs), 2),
        'PyTorch / finetorch time': fixed(runs.map((r) => r.theirs / r.ours), 2),
        'finetorch unmasked / MAE': fixed(runs.map((r) => r.oursUnmasked / r.ours), 2),
        'PyTorch unmasked / MAE': fixed(runs.map((r) => r.theirsUnmasked / r.theirs), 2),
      });
    }
    log(`PyTorch side: ${pythonModel}.`);
    console.table(rows);
  });
}

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      arch: { type: 'string', default: 'mae_vit_base_patch16' }, batch: { type: 'string', default: '4' }, steps: { type: 'string', default: '2' },
      threads: { type: 'string', default: '1' }, rounds: { type: 'string', default: '2' }, 'mask-ratio': { type: 'string', default: '0.75' },
    },
  });
  const ratio = Number(values['mask-ratio']);
  if (!(ratio > 0 && ratio < 1)) usageError(`--mask-ratio must be above 0 and below 1, got ${values['mask-ratio']}`);
  if (!(values.arch! in MAE_ARCHS)) usageError(`--arch must be one of ${Object.keys(MAE_ARCHS).join(', ')}, got ${values.arch}`);
  runScript(runMaeBench({
    arch: values.arch as MaeArch, batch: positiveInteger('batch', values.batch!), steps: positiveInteger('steps', values.steps!),
    threads: values.threads!.split(',').map((t) => positiveInteger('threads', t)), rounds: positiveInteger('rounds', values.rounds!), maskRatio: ratio,
  }));
}
