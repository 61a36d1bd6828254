// Shared by the CPU and CUDA training parity tests: train_reference.py's batches, the chapter's
// optimizer, and state-dict comparison.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { Batch, getNumThreads, ResNet18, setNumThreads, SGD } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';
import { assertClose } from './compare';
import { readFloat32 } from './python';

const BATCHES = 10;
const BATCH = 8;
const SIZE = 32;

export function readBatches(dir: string): Batch[] {
  const x = readFloat32(path.join(dir, 'input.f32'));
  const yBuf = fs.readFileSync(path.join(dir, 'target.i32'));
  const y = new Int32Array(yBuf.buffer, yBuf.byteOffset, yBuf.byteLength / 4);
  const per = BATCH * 3 * SIZE * SIZE;
  return Array.from({ length: BATCHES }, (_, i) => ({
    input: { dtype: 'float32', shape: [BATCH, 3, SIZE, SIZE], data: x.slice(i * per, (i + 1) * per) } as HostTensor,
    target: y.slice(i * BATCH, (i + 1) * BATCH),
  }));
}

/** The chapter's optimizer, transcribed from its Python as the issue asks. */
export function chapterSgd(net: ResNet18, extra: { momentum?: number; nesterov?: boolean } = {}): SGD {
  const lr = 0.01;
  return new SGD([{ params: net.parameters({ exclude: ['fc'] }) },
                  { params: net.fc.parameters(), lr: lr * 10 }],
                 { lr, weightDecay: 0.001, ...extra });
}

export function assertStateClose(actual: Map<string, HostTensor>, expected: Map<string, HostTensor>, tolerance: number): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()]);
  for (const [name, t] of expected) {
    const a = actual.get(name)!;
    if (t.dtype === 'int64') assert.deepEqual(a.data, t.data, name);
    else assertClose(a.data as Float32Array, t.data as Float32Array, tolerance, name);
  }
}

/**
 * One compute thread for the enclosing describe block, as the reference scripts pin
 * (torch.set_num_threads(1)): another count sums in another order, and training amplifies the
 * last bit. LibTorch 2.x starts with one thread per core.
 */
export function pinComputeThreads(): void {
  let previous = 0;
  before(() => {
    previous = getNumThreads();
    setNumThreads(1);
  });
  after(() => setNumThreads(previous));
}
