// Small programs run as one rank of a job by the fault tests (RANK, WORLD_SIZE, MASTER_ADDR and
// MASTER_PORT set); each prints what happened, errors as "<code>: <message>" (exit code 1).
//   node dist-rank.js join STARTUP_TIMEOUT_MS   join, sum the ranks, leave
//   node dist-rank.js nonfinite                 a step whose loss is NaN on rank 1 only, then a good one
import { ResNet18, SGD, dist } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';

async function join(startupTimeoutMs: number): Promise<void> {
  await dist.init({ startupTimeoutMs });
  const [sum] = await dist.allReduce([dist.rank + 1]);
  console.log(`joined as rank ${dist.rank} of ${dist.worldSize}; sum of ranks + 1 = ${sum}`);
}

async function nonfinite(): Promise<void> {
  await dist.init();
  const net = await ResNet18.create({ numClasses: 3, seed: 0 });
  await net.distributed();
  const optimizer = new SGD(net.parameters(), { lr: 0.01 });
  const input = (poisoned: boolean): HostTensor => {
    const data = Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i));
    if (poisoned) data[7] = NaN;
    return { dtype: 'float32', shape: [2, 3, 32, 32], data };
  };
  const target = Int32Array.from([0, 2]);
  try {
    await net.trainStep(input(dist.rank === 1), target, optimizer);
    console.log('stepped with a NaN loss somewhere');
  } catch (err) {
    console.log(`refused: ${(err as Error & { code?: string }).code}: ${(err as Error).message}`);
  }
  const { loss } = await net.trainStep(input(false), target, optimizer);
  console.log(`then stepped: loss ${loss.toFixed(4)}, step ${optimizer.stepCount}`);
}

const [task, arg] = process.argv.slice(2);
(task === 'join' ? join(Number(arg)) : nonfinite()).then(() => dist.destroy(), (err: Error & { code?: string }) => {
  console.log(`${err.code}: ${err.message}`);
  process.exit(1);
});
