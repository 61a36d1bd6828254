// GPU training speed: ResNet-18 at 224 px, batch 256, training images/s for finetorch and for
// PyTorch Python on the same card, fp32 and AMP (fp16), with and without channels-last; then the
// JPEG DataLoader feeding the fastest setting, as the share of the compute-only speed it keeps.
// Usage: node dist/scripts/bench-gpu.js [--device cpu --size 32 --batch 8 --steps 2] (CPU dry run)
import { parseArgs } from 'node:util';
import { DataLoader, fineTune, ImageFolder, ResNet18, SGD, Subset, trainTransform, torchVersion } from '../lib';
import { HostTensor } from '../lib/base/tensor';
import { runPython } from './reference-python';
import { makeCorpus } from './make-corpus';

type Amp = 'none' | 'fp16';

async function finetorchImagesPerSec(device: string, size: number, batch: number, warmup: number, steps: number, amp: Amp, channelsLast: boolean): Promise<number> {
  const net = await (await ResNet18.create({ numClasses: 1000 })).to(device as 'cpu');
  net.setPrecision({ amp, channelsLast });
  const opt = new SGD([{ params: net.parameters({ exclude: ['fc'] }) }, { params: net.fc.parameters(), lr: 0.1 }], { lr: 0.01, momentum: 0.9, weightDecay: 0.001 });
  const input: HostTensor = { dtype: 'float32', shape: [batch, 3, size, size], data: Float32Array.from({ length: batch * 3 * size * size }, (_, i) => Math.sin(i)) };
  const target = Int32Array.from({ length: batch }, (_, i) => (i * 7) % 1000);
  let start = 0;
  for (let i = 0; i < warmup + steps; i++) {
    if (i === warmup) start = performance.now();
    await net.trainStep(input, target, opt); // returns after loss.item(): the step has finished
  }
  const rate = (steps * batch) / ((performance.now() - start) / 1000);
  net.dispose();
  return rate;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      device: { type: 'string', default: 'cuda' }, size: { type: 'string', default: '224' }, batch: { type: 'string', default: '256' },
      warmup: { type: 'string', default: '5' }, steps: { type: 'string', default: '20' }, images: { type: 'string', default: '1000' },
      concurrency: { type: 'string', default: '16' },
    },
  });
  const device = values.device!;
  const [size, batch, warmup, steps, images, concurrency] = [values.size, values.batch, values.warmup, values.steps, values.images, values.concurrency].map(Number);
  const amps: Amp[] = device === 'cpu' ? ['none'] : ['none', 'fp16'];
  console.log(`GPU benchmark on ${device}: ResNet-18, ${size} px, batch ${batch}, ${steps} timed steps after ${warmup}; LibTorch ${torchVersion}`);
  const rows = [];
  let best = { rate: 0, amp: 'none' as Amp, channelsLast: false };
  for (const amp of amps) {
    for (const channelsLast of [false, true]) {
      const ours = await finetorchImagesPerSec(device, size, batch, warmup, steps, amp, channelsLast);
      const py = JSON.parse(await runPython('bench_gpu.py', [device, size, batch, warmup, steps, amp, channelsLast ? 1 : 0].map(String)));
      rows.push({ precision: amp === 'none' ? 'fp32' : 'amp fp16', 'channels-last': channelsLast, 'finetorch img/s': +ours.toFixed(1),
        [`PyTorch ${py.torch} img/s`]: +py.imagesPerSec.toFixed(1), 'finetorch / PyTorch': (ours / py.imagesPerSec).toFixed(2) });
      if (ours > best.rate) best = { rate: ours, amp, channelsLast };
    }
  }
  console.table(rows);

  const root = await makeCorpus({ count: images, concurrency });
  const data = new ImageFolder(root, { transform: trainTransform({ size }) });
  const loader = new DataLoader(new Subset(data, Array.from({ length: data.length }, (_, i) => i)), { batchSize: batch, shuffle: true, seed: 0, concurrency, prefetch: 3 });
  const net = await (await ResNet18.create({ numClasses: 10 })).to(device as 'cpu');
  net.setPrecision({ amp: best.amp, channelsLast: best.channelsLast });
  const history = await fineTune(net, { train: loader, epochs: 2, lr: 0.01, momentum: 0.9 });
  net.dispose();
  const fed = history[1].imagesPerSec; // the second epoch: cuDNN and the thread pools are warm
  console.log(`JPEG DataLoader (${images} files, concurrency ${concurrency}) feeding ${best.amp}${best.channelsLast ? ' + channels-last' : ''}: ` +
    `${fed.toFixed(1)} img/s = ${((100 * fed) / best.rate).toFixed(0)}% of the compute-only ${best.rate.toFixed(1)} img/s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
