// One rank of the data-parallel parity test, as test/python/dist_ddp.py's `run` with finetorch:
//   RANK=r WORLD_SIZE=w MASTER_ADDR=.. MASTER_PORT=.. node dist-ddp-worker.js DIR train,eval
// Writes finetorch-BN-rank{r}.pth and finetorch-BN-rank{r}.json ({losses, buckets}).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ResNet18, SGD, dist, savePth, setNumThreads } from '../../lib';
import { readFloat32 } from './python';

const STEPS = 5;
const BATCH = 4;
const SIZE = 32;
const BATCHNORM = /(^|\.)(bn\d|downsample\.1)\./;

async function train(dir: string, rank: number, bn: string): Promise<void> {
  const net = await ResNet18.load(path.join(dir, `init-rank${rank}.pth`));
  if (bn === 'eval') net.freeze({ except: net.namedParameters().map(([name]) => name).filter((name) => !BATCHNORM.test(name)) });
  await net.distributed();
  const lr = 0.001;
  const optimizer = new SGD([{ params: net.parameters({ exclude: ['fc'] }) }, { params: net.fc.parameters(), lr: lr * 10 }],
    { lr, weightDecay: 0.001 });
  const x = readFloat32(path.join(dir, `input-rank${rank}.f32`));
  const bytes = fs.readFileSync(path.join(dir, `target-rank${rank}.i32`));
  const y = new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const per = BATCH * 3 * SIZE * SIZE;
  const losses: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const input = { dtype: 'float32' as const, shape: [BATCH, 3, SIZE, SIZE], data: x.slice(s * per, (s + 1) * per) };
    losses.push((await net.trainStep(input, y.slice(s * BATCH, (s + 1) * BATCH), optimizer)).loss);
  }
  await savePth(path.join(dir, `finetorch-${bn}-rank${rank}.pth`), await net.stateDict());
  fs.writeFileSync(path.join(dir, `finetorch-${bn}-rank${rank}.json`), JSON.stringify({ losses, buckets: await net.bucketLayout() }));
  net.dispose();
}

async function main(): Promise<void> {
  const [dir, modes] = process.argv.slice(2);
  setNumThreads(1);
  await dist.init();
  for (const bn of modes.split(',')) await train(dir, dist.rank, bn);
  await dist.destroy();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
