// Data-parallel training at 2 processes on this machine, finetorch against PyTorch's gloo in the
// same run (each side a job of its own, one after the other, one thread per rank):
//  - one SUM all-reduce of ResNet-18's 11,689,512 gradient floats;
//  - the communication a step costs: ResNet-18 steps with net.distributed() / DDP, against the
//    same steps without it on the same ranks at the same time.
// (No speed-up is possible on 2 cores; on GPUs NCCL is the backend to measure.)
// Usage: node dist/scripts/bench-dist.js [SIZE BATCH STEPS]
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { ResNet18, SGD, dist, setNumThreads } from '../lib';
import { freePort } from '../lib/cli/launch';
import { HostTensor } from '../lib/base/tensor';
import { requirePythonWithTorch } from './python-with-torch';

const RESNET18_FLOATS = 11_689_512;
const WORKER = '--dist-bench-rank';
const PYTHON_SCRIPT = path.resolve(__dirname, '..', '..', 'test', 'python', 'dist_bench.py');

export interface DistBenchOptions {
  size?: number;
  batch?: number;
  steps?: number;
  reps?: number;
  rounds?: number;
  log?: (line: string) => void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs a 2-rank job of `argv`; resolves to rank 0's JSON output. */
async function job(argv: string[]): Promise<Record<string, number>> {
  const port = String(await freePort());
  const ranks = [0, 1].map((rank) => new Promise<string>((resolve, reject) => {
    const env = { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, WORLD_SIZE: '2', RANK: String(rank), OMP_NUM_THREADS: '1' };
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')}: rank ${rank} exited ${code}`))));
  }));
  return JSON.parse((await Promise.all(ranks))[0]);
}

async function stepTimes(size: number, batch: number, steps: number, distributed: boolean): Promise<number> {
  const model = await ResNet18.create({ numClasses: 10, seed: 0 });
  if (distributed) await model.distributed();
  const optimizer = new SGD([{ params: model.parameters({ exclude: ['fc'] }) }, { params: model.fc.parameters(), lr: 0.1 }],
    { lr: 0.01, weightDecay: 0.001 });
  const input: HostTensor = { dtype: 'float32', shape: [batch, 3, size, size], data: Float32Array.from({ length: batch * 3 * size * size }, (_, i) => Math.sin(i)) };
  const target = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    await dist.barrier();
    const start = performance.now();
    await model.trainStep(input, target, optimizer);
    if (i >= 2) times.push(performance.now() - start);
  }
  model.dispose();
  return median(times);
}

/** One rank of finetorch's side (started by job()); rank 0 prints the JSON. */
async function rank(task: string, args: number[]): Promise<void> {
  setNumThreads(1);
  await dist.init();
  let result: Record<string, number>;
  if (task === 'allreduce') {
    const gradients = new Float32Array(RESNET18_FLOATS).fill(1);
    const times: number[] = [];
    for (let i = 0; i <= args[0]; i++) {
      await dist.barrier();
      const start = performance.now();
      await dist.allReduce(gradients);
      if (i) times.push(performance.now() - start);
    }
    result = { bestMs: Math.min(...times), medianMs: median(times) };
  } else {
    const [size, batch, steps] = args;
    result = { ddpMs: await stepTimes(size, batch, steps, true), localMs: await stepTimes(size, batch, steps, false) };
  }
  if (dist.rank === 0) process.stdout.write(JSON.stringify(result));
  await dist.destroy();
}

export async function runDistBench(options: DistBenchOptions = {}): Promise<void> {
  const { size = 64, batch = 8, steps = 6, reps = 10, rounds = 2, log = console.log } = options;
  const { python } = requirePythonWithTorch();
  const self = [process.execPath, __filename, WORKER];
  const sides = { finetorch: self, PyTorch: [python, PYTHON_SCRIPT] };
  // The two sides take turns, so that a busy moment of a shared machine does not favour either.
  const alternate = async (task: string[]) => {
    const results: Record<string, Record<string, number>[]> = { finetorch: [], PyTorch: [] };
    for (let round = 0; round < rounds; round++) {
      for (const [side, argv] of Object.entries(sides)) results[side].push(await job([...argv, ...task]));
    }
    return results;
  };
  log(`\nData-parallel, 2 processes on this machine (gloo over loopback, 1 thread per rank; ${rounds} alternating rounds)`);
  const reduce = await alternate(['allreduce', String(reps)]);
  console.table(Object.entries(reduce).map(([side, r]) => ({
    '': side, floats: RESNET18_FLOATS, 'best ms': +Math.min(...r.map((x) => x.bestMs)).toFixed(1),
    'median of medians ms': +median(r.map((x) => x.medianMs)).toFixed(1),
  })));
  log(`ResNet-18 training steps at ${size} px, ${batch} images per rank: median ms per step, median over the rounds`);
  const stepped = await alternate(['step', String(size), String(batch), String(steps)]);
  console.table(Object.entries(stepped).map(([side, r]) => {
    const ddp = median(r.map((x) => x.ddpMs));
    const local = median(r.map((x) => x.localMs));
    return { '': side === 'PyTorch' ? 'PyTorch DDP' : 'finetorch distributed()', 'data-parallel ms': +ddp.toFixed(1),
      'local ms': +local.toFixed(1), 'communication ms': +(ddp - local).toFixed(1) };
  }));
}

if (require.main === module) {
  const [first, ...rest] = process.argv.slice(2);
  const work = first === WORKER
    ? rank(rest[0], rest.slice(1).map(Number))
    : runDistBench(first ? { size: Number(first), batch: Number(rest[0]), steps: Number(rest[1]) } : {});
  work.catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
