// Child process of the resume test: a fresh process loads the start weights, resumes from the
// checkpoint, trains 2 more steps (batches 2 and 3) on THREADS compute threads (the parent's) and
// saves the weights.
import * as path from 'node:path';
import { loadCheckpoint, ResNet18, savePth, setNumThreads } from '../../lib';
import { chapterSgd, readBatches } from './training';

async function main(dir: string, checkpoint: string, out: string): Promise<void> {
  const net = await ResNet18.load(path.join(dir, 'start.pth'));
  const opt = chapterSgd(net, { momentum: 0.9 });
  await loadCheckpoint(checkpoint, { net, optimizer: opt });
  const batches = readBatches(dir);
  for (let i = 2; i < 4; i++) await net.trainStep(batches[i].input, batches[i].target, opt);
  await savePth(out, await net.stateDict());
}

const [dir, checkpoint, out, threads] = process.argv.slice(2);
setNumThreads(Number(threads));
main(dir, checkpoint, out).catch((err) => {
  console.error(err);
  process.exit(1);
});
