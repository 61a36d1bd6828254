// LibTorch's CPU memory (lib/base/runtime.ts cpuMemory, native/core/cpu_allocator.cc): what the
// cache of freed blocks gains per training step, and that its idle blocks go back by themselves.
//  - steps: ResNet-18 training steps with the cache as it runs, against the same steps with the
//    cache emptied after each one (every step's memory fresh pages from the kernel), in
//    alternating blocks, median ms per step of each;
//  - dropped models: ResNet-18s created and dropped without dispose() in a fresh process, collected
//    by the GC; its RSS at the start, at the peak, once collected, and once the idle blocks have
//    decayed (with the seconds that took).
// Usage: node --expose-gc dist/scripts/bench-memory.js
//        node --expose-gc dist/scripts/bench-memory.js --dropped-models N   (the child: one JSON line)
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpuMemory, HostTensor, ResNet18, SGD } from '../lib';

export interface DroppedModels {
  models: number;
  /** RSS in MiB: before the models, at the peak, once the GC collected them, once idle blocks decayed. */
  startMiB: number;
  peakMiB: number;
  collectedMiB: number;
  decayedMiB: number;
  /** Idle bytes the cache held once the models were collected. */
  cachedAfterCollection: number;
  /** Seconds from the collection until the cache held nothing idle (the wait ends at `waitSeconds`). */
  decaySeconds: number;
}

const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);
const rss = (): number => mib(process.memoryUsage().rss);
const tick = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs every finalizer the GC can: collections with turns of the event loop between them. */
async function collect(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    globalThis.gc!();
    await tick(50);
  }
}

/** In this process (started with --expose-gc): `models` ResNet-18s made and dropped, then waited for. */
export async function droppedModels(models: number, waitSeconds = 30): Promise<DroppedModels> {
  if (!globalThis.gc) throw new Error('run with node --expose-gc');
  // LibTorch's own start-up allocations first, so that the start is the steady state.
  (await ResNet18.create({ numClasses: 1000 })).dispose();
  await collect();
  cpuMemory.emptyCache();
  const startMiB = rss();
  let peakMiB = startMiB;
  for (let i = 0; i < models; i++) {
    await ResNet18.create({ numClasses: 1000, seed: i });
    peakMiB = Math.max(peakMiB, rss());
  }
  await collect();
  const collectedMiB = rss();
  const cachedAfterCollection = cpuMemory.cachedBytes();
  const since = performance.now();
  while (cpuMemory.cachedBytes() > 0 && performance.now() - since < waitSeconds * 1000) await tick(250);
  const decaySeconds = +((performance.now() - since) / 1000).toFixed(1);
  await tick(500);
  return { models, startMiB, peakMiB, collectedMiB, decayedMiB: rss(), cachedAfterCollection, decaySeconds };
}

/** droppedModels in a fresh process (its RSS is the models' alone). */
export async function droppedModelsInChild(models: number): Promise<DroppedModels> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', __filename, '--dropped-models', String(models)],
    { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as DroppedModels;
}

/** Median ms per training step with the cache, and with it emptied after every step. */
export async function stepTimes(options: { size?: number; batch?: number; blocks?: number; steps?: number } = {}) {
  const { size = 64, batch = 32, blocks = 6, steps = 8 } = options;
  const net = await ResNet18.create({ numClasses: 10 });
  const optimizer = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const input: HostTensor = { dtype: 'float32', shape: [batch, 3, size, size], data: Float32Array.from({ length: batch * 3 * size * size }, (_, i) => Math.sin(i)) };
  const target = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const times: Record<'cached' | 'emptied', number[]> = { cached: [], emptied: [] };
  for (let i = 0; i < 3; i++) await net.trainStep(input, target, optimizer);
  for (let block = 0; block < blocks; block++) {
    for (const mode of block % 2 === 0 ? ['cached', 'emptied'] as const : ['emptied', 'cached'] as const) {
      for (let i = 0; i < steps; i++) {
        if (mode === 'emptied') cpuMemory.emptyCache();
        const start = performance.now();
        await net.trainStep(input, target, optimizer);
        times[mode].push(performance.now() - start);
      }
    }
  }
  net.dispose();
  cpuMemory.emptyCache();
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { size, batch, steps: blocks * steps, cachedMs: median(times.cached), emptiedMs: median(times.emptied) };
}

export async function runMemoryBench(log: (line: string) => void = console.log): Promise<void> {
  const steps = await stepTimes();
  log(`\nCPU memory: ResNet-18 training steps at ${steps.size} px, batch ${steps.batch}, ${steps.steps} of each, alternating blocks;`);
  log('dropped models: ResNet-18s created and dropped without dispose() in a fresh process, collected by the GC.');
  console.table([{
    'step ms, cache': +steps.cachedMs.toFixed(1), 'step ms, cache emptied each step': +steps.emptiedMs.toFixed(1),
    'emptied / cache': +(steps.emptiedMs / steps.cachedMs).toFixed(3),
  }]);
  const dropped = await droppedModelsInChild(30);
  console.table([{
    models: dropped.models, 'RSS start MiB': dropped.startMiB, 'peak MiB': dropped.peakMiB, 'collected MiB': dropped.collectedMiB,
    'idle cached MiB then': mib(dropped.cachedAfterCollection), 'after decay MiB': dropped.decayedMiB, 'decay s': dropped.decaySeconds,
  }]);
}

if (require.main === module) {
  const at = process.argv.indexOf('--dropped-models');
  const work = at > 0
    ? droppedModels(Number(process.argv[at + 1])).then((r) => console.log(JSON.stringify(r)))
    : runMemoryBench();
  work.catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
