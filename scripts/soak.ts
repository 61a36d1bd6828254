// npm run soak [-- --steps N --loops N --size S --batch B]: memory over long runs (not part of the
// tests). 1. N training steps of a 10-class ResNet-18 at a small size (momentum SGD, batches
// cycled), RSS sampled every 100 steps; 2. N create/train-one-step/dispose loops of a model and its
// optimizer. Each reports the RSS growth after warm-up as a least-squares slope, in MiB per 1000
// steps (or loops): flat within noise is the goal; a leak of one batch per step would be ~1 MiB.
import { parseArgs } from 'node:util';
import { ResNet18, SGD } from '../lib';
import { HostTensor } from '../lib/base/tensor';

const MiB = 2 ** 20;

function batches(count: number, batch: number, size: number): { input: HostTensor; target: Int32Array }[] {
  return Array.from({ length: count }, (_, k) => ({
    input: { dtype: 'float32', shape: [batch, 3, size, size], data: Float32Array.from({ length: batch * 3 * size * size }, (_, i) => Math.sin(i * 0.37 + k)) },
    target: Int32Array.from({ length: batch }, (_, i) => (i + k) % 10),
  }));
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx ? sxy / sxx : 0;
}

interface Phase {
  name: string;
  /** [iteration, RSS bytes] samples. */
  samples: [number, number][];
  warmUp: number;
  unit: string;
}

function summary({ name, samples, warmUp, unit }: Phase): string {
  const after = samples.filter(([i]) => i >= warmUp);
  const perThousand = (slope(after) * 1000) / MiB;
  const rss = (i: number) => (samples[i][1] / MiB).toFixed(0);
  return `${name}: RSS ${rss(0)} MiB at start, ${(after[0][1] / MiB).toFixed(0)} MiB after warm-up (${warmUp} ${unit}), ` +
    `${rss(samples.length - 1)} MiB at the end (${samples[samples.length - 1][0]} ${unit}); ` +
    `slope after warm-up ${perThousand >= 0 ? '+' : ''}${perThousand.toFixed(2)} MiB per 1000 ${unit}`;
}

async function trainSteps(steps: number, size: number, batch: number): Promise<Phase> {
  const net = await ResNet18.create({ numClasses: 10 });
  const optimizer = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-3 });
  const data = batches(16, batch, size);
  const samples: [number, number][] = [];
  const started = Date.now();
  for (let step = 0; step <= steps; step++) {
    if (step % 100 === 0) {
      samples.push([step, process.memoryUsage().rss]);
      if (step % 1000 === 0) console.log(`  step ${step}: RSS ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    if (step < steps) await net.trainStep(data[step % data.length].input, data[step % data.length].target, optimizer);
  }
  net.dispose();
  return { name: `${steps} train steps (${size} px, batch ${batch})`, samples, warmUp: Math.min(1000, steps / 10), unit: 'steps' };
}

async function createDispose(loops: number, size: number, batch: number): Promise<Phase> {
  const [{ input, target }] = batches(1, batch, size);
  const samples: [number, number][] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let loop = 0; loop <= loops; loop++) {
    if (loop % 10 === 0) {
      gc?.();
      samples.push([loop, process.memoryUsage().rss]);
      if (loop % 100 === 0) console.log(`  loop ${loop}: RSS ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB`);
    }
    if (loop === loops) break;
    const net = await ResNet18.create({ numClasses: 10, seed: loop });
    const optimizer = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
    await net.trainStep(input, target, optimizer);
    net.dispose();
  }
  return { name: `${loops} create/step/dispose loops of a model and its SGD${gc ? '' : ' (no --expose-gc)'}`, samples, warmUp: Math.min(50, loops / 4), unit: 'loops' };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '10000' },
      loops: { type: 'string', default: '500' },
      size: { type: 'string', default: '32' },
      batch: { type: 'string', default: '8' },
    },
  });
  const [steps, loops, size, batch] = [values.steps, values.loops, values.size, values.batch].map(Number);
  console.log(`soak: ${steps} steps, ${loops} loops (pid ${process.pid})`);
  const train = await trainSteps(steps, size, batch);
  console.log(summary(train));
  const cycles = await createDispose(loops, size, batch);
  console.log(summary(cycles));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
