// npm run bench: every benchmark, each against the PyTorch Python equivalent in the same run.
// Sizes are kept small enough for a 2-core machine; each section's script takes larger ones.
import * as os from 'node:os';
import { torchVersion } from '../lib';
import { runDataBench } from './bench-data';
import { runDistBench } from './bench-dist';
import { runMaeBench } from './bench-mae';
import { runMemoryBench } from './bench-memory';
import { runOnnxBench } from './bench-onnx';
import { runWeightsBench } from './bench-pth';
import { runTrainBench } from './bench-train';
import { runVitBench } from './bench-vit';

async function main(): Promise<void> {
  console.log(`finetorch benchmarks: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `Node ${process.version}, LibTorch ${torchVersion}\n`);
  await runWeightsBench(9);
  await runDataBench({ fashionMnist: '/usr/share/datasets/fashion-mnist' });
  await runTrainBench();
  await runVitBench();
  await runMaeBench();
  await runMemoryBench();
  await runDistBench();
  await runOnnxBench();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
