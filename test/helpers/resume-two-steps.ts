// Child process of the resume test: a fresh process loads the start weights, resumes from the
// checkpoint, trains 2 more steps (batches 2 and 3) and saves the weights.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadCheckpoint, ResNet18, savePth, SGD } from '../../lib';
import { readFloat32 } from './python';

async function main(dir: string, checkpoint: string, out: string): Promise<void> {
  const net = await ResNet18.load(path.join(dir, 'start.pth'));
  const lr = 0.01;
  const opt = new SGD([{ params: net.parameters({ exclude: ['fc'] }) }, { params: net.fc.parameters(), lr: lr * 10 }],
    { lr, weightDecay: 0.001, momentum: 0.9 });
  await loadCheckpoint(checkpoint, { net, optimizer: opt });
  const x = readFloat32(path.join(dir, 'input.f32'));
  const yBuf = fs.readFileSync(path.join(dir, 'target.i32'));
  const y = new Int32Array(yBuf.buffer, yBuf.byteOffset, yBuf.byteLength / 4);
  const per = 8 * 3 * 32 * 32;
  for (let i = 2; i < 4; i++) {
    await net.trainStep({ dtype: 'float32', shape: [8, 3, 32, 32], data: x.slice(i * per, (i + 1) * per) }, y.slice(i * 8, (i + 1) * 8), opt);
  }
  await savePth(out, await net.stateDict());
}

const [dir, checkpoint, out] = process.argv.slice(2);
main(dir, checkpoint, out).catch((err) => {
  console.error(err);
  process.exit(1);
});
