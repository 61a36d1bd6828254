// Inference on the CPU: finetorch's eval-mode forward against ONNX Runtime (onnxruntime-node) on
// the same model exported by net.exportOnnx (BatchNorm folded), the same input, the same thread
// count on both sides, at batch 1 and 32. The two sides take turns, round by round, so that the
// machine's drift falls on both; each figure is the median of its rounds after a warm-up. CPU time
// (the whole process, every thread) is given beside wall time: on a shared machine it moves less
// with the other load than wall time does (ONNX Runtime's pool threads spin while they wait, so at
// 2 threads its CPU time counts that spinning too).
// Usage: node dist/scripts/bench-onnx.js [ARCH] [SIZE] [ROUNDS]
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ARCH_NAMES, Arch, ResNet, mulberry32, setNumThreads } from '../lib';
import { HostTensor } from '../lib/base/tensor';
import { tempDir } from './reference-python';

const BATCHES = [1, 32];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/** Wall and CPU milliseconds of `work`. */
async function timed(work: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const wall = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

export async function runOnnxBench(arch: Arch = 'resnet18', size = 224, rounds = 5): Promise<void> {
  const { dir, cleanup } = tempDir('finetorch-bench-onnx-');
  const net = await ResNet.create({ arch, numClasses: 1000, seed: 0 });
  net.eval();
  const file = path.join(dir, `${arch}.onnx`);
  await net.exportOnnx(file, { imageSize: size });
  const rng = mulberry32(1);
  const rows = [];
  try {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      const session = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'] });
      for (const batch of BATCHES) {
        const input: HostTensor<'float32'> = {
          dtype: 'float32', shape: [batch, 3, size, size], data: Float32Array.from({ length: batch * 3 * size * size }, () => rng.next() * 4 - 2),
        };
        const feeds = { input: new ort.Tensor('float32', input.data, input.shape) };
        const finetorchRun = () => net.forward(input);
        const ortRun = () => session.run(feeds);
        await finetorchRun();
        await ortRun();
        const sides = { finetorch: finetorchRun, ort: ortRun };
        const times = { finetorch: { wall: [] as number[], cpu: [] as number[] }, ort: { wall: [] as number[], cpu: [] as number[] } };
        // Small batches are quick: more calls per round, so that timer and scheduling noise average out.
        const calls = batch === 1 ? 20 : 1;
        for (let round = 0; round < rounds; round++) {
          for (const side of ['finetorch', 'ort'] as const) {
            const { wall, cpu } = await timed(async () => {
              for (let i = 0; i < calls; i++) await sides[side]();
            });
            times[side].wall.push(wall / calls);
            times[side].cpu.push(cpu / calls);
          }
        }
        const [f, o] = [median(times.finetorch.wall), median(times.ort.wall)];
        const [fc, oc] = [median(times.finetorch.cpu), median(times.ort.cpu)];
        rows.push({
          threads, batch,
          'finetorch ms (CPU ms)': `${f.toFixed(1)} (${fc.toFixed(1)})`, 'onnxruntime ms (CPU ms)': `${o.toFixed(1)} (${oc.toFixed(1)})`,
          'finetorch img/s': +((batch * 1000) / f).toFixed(1), 'onnxruntime img/s': +((batch * 1000) / o).toFixed(1),
          'onnxruntime / finetorch: wall (CPU)': `${(o / f).toFixed(2)} (${(oc / fc).toFixed(2)})`,
        });
      }
      await session.release();
    }
  } finally {
    net.dispose();
    cleanup();
  }
  console.log(`## Inference: finetorch forward vs onnxruntime-node ${ort.env.versions.node} (${arch}, ${size} px, eval, median of ${rounds} rounds)\n`);
  console.table(rows);
}

if (require.main === module) {
  const [arch = 'resnet18', size = '224', rounds = '5'] = process.argv.slice(2);
  if (!(ARCH_NAMES as string[]).includes(arch)) throw new Error(`unknown architecture ${arch}; one of ${ARCH_NAMES.join(', ')}`);
  runOnnxBench(arch as Arch, Number(size), Number(rounds)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
