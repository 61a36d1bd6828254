// One rank that joins a job and leaves (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set):
//   node dist-join.js STARTUP_TIMEOUT_MS
// Prints "joined" or, when dist.init fails, the error's code and message (exit code 1).
import { dist } from '../../lib';

async function main(): Promise<void> {
  await dist.init({ startupTimeoutMs: Number(process.argv[2]) });
  const [sum] = await dist.allReduce([dist.rank + 1]);
  console.log(`joined as rank ${dist.rank} of ${dist.worldSize}; sum of ranks + 1 = ${sum}`);
  await dist.destroy();
}

main().catch((err: Error & { code?: string }) => {
  console.log(`${err.code}: ${err.message}`);
  process.exit(1);
});
