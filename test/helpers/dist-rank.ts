// Small programs run as one rank of a job by the fault tests (RANK, WORLD_SIZE, MASTER_ADDR and
// MASTER_PORT set); each prints what happened, errors as "<code>: <message>" (exit code 1).
//   node dist-rank.js join STARTUP_TIMEOUT_MS   join, sum the ranks, leave
//   node dist-rank.js nonfinite                 a step whose loss is NaN on rank 1 only, then a good one
//   node dist-rank.js race COUNT                COUNT allReduces of distinct values and a data-parallel step
//                                               among them, issued without waiting for any (rank 0 pausing
//                                               after the step); prints the sums in call order
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

async function race(count: number): Promise<void> {
  await dist.init({ timeoutMs: 30_000 });
  const net = await ResNet18.create({ numClasses: 3, seed: 0 });
  await net.distributed();
  const optimizer = new SGD(net.parameters(), { lr: 0.01 });
  const input: HostTensor = { dtype: 'float32', shape: [2, 3, 32, 32], data: Float32Array.from({ length: 2 * 3 * 32 * 32 }, (_, i) => Math.sin(i)) };
  // No call awaited before the next is made: the k-th allReduce of every rank must meet the k-th of
  // the others. Rank 0 reaches the calls after the step later than rank 1 does (the ranks of a job
  // never run in step), so the step's own collectives fall between different allReduces unless
  // every collective waits its turn.
  const sums: Promise<number>[] = [];
  let step: Promise<unknown> | undefined;
  for (let k = 0; k < count; k++) {
    sums.push(dist.allReduce(Float64Array.of(1000 * k + dist.rank)).then((r) => r[0]));
    if (k === Math.floor(count / 2)) {
      step = net.trainStep(input, Int32Array.from([0, 2]), optimizer);
      if (dist.rank === 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  await step;
  console.log(JSON.stringify(await Promise.all(sums)));
}

const [task, arg] = process.argv.slice(2);
const tasks: Record<string, () => Promise<void>> = { join: () => join(Number(arg)), nonfinite, race: () => race(Number(arg)) };
tasks[task]().then(() => dist.destroy(), (err: Error & { code?: string }) => {
  console.log(`${err.code}: ${err.message}`);
  process.exit(1);
});
