// Published weights for the download tests: a tiny .pth named as torchvision names its files,
// served by a local WeightsServer, and a fresh cache folder per test. The values are live: they are
// set by the hooks useWeightsFixture registers.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, beforeEach } from 'node:test';
import { zeros } from '../../lib/base/tensor';
import { savePth } from '../../lib/pth';
import { tempDir } from './python';
import { WeightsServer } from './weights-server';

export const server = new WeightsServer();
export const tmp = tempDir('finetorch-weights-');
/** The file's bytes and its published name (<name>-<sha256 prefix>.pth). */
export let content: Buffer;
export let name: string;
/** This test's cache folder (not made yet). */
export let dir: string;

/**
 * A real .pth of a few hundred KiB, named as torchvision names its files (<name>-<sha256 prefix>.pth),
 * served by `server` under that name and as resnet18-f37072fd.pth (not the real file: its hash
 * cannot match). Made in `dir`.
 */
async function publishTinyWeights(dir: string, server: WeightsServer): Promise<{ content: Buffer; name: string }> {
  const weight = zeros('float32', [256, 256]);
  weight.data.forEach((_, i) => { (weight.data as Float32Array)[i] = Math.sin(i); });
  const made = path.join(dir, 'made.pth');
  await savePth(made, new Map([['fc.weight', weight], ['fc.bias', zeros('float32', [256])]]));
  const content = fs.readFileSync(made);
  const name = `tiny-${createHash('sha256').update(content).digest('hex').slice(0, 8)}.pth`;
  server.files.set(name, content);
  server.files.set('resnet18-f37072fd.pth', content);
  return { content, name };
}

/** The hooks of a test file that uses the fixture: the server started with the file, a fresh cache folder and request log per test. */
export function useWeightsFixture(): void {
  let n = 0;
  before(async () => {
    ({ content, name } = await publishTinyWeights(tmp.dir, server));
    await server.start();
  });
  after(async () => {
    await server.stop();
    tmp.cleanup();
  });
  beforeEach(() => {
    dir = path.join(tmp.dir, `cache-${n++}`);
    server.requests.length = 0;
    server.plan.length = 0;
  });
}
