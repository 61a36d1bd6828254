// A long run of small calls: the process's RSS stays flat, so no call leaks native memory. In the
// end-to-end tier beside the other RSS checks: on Debian's LibTorch 1.13 batch-1 forwards are slow
// enough that a thousand of them make a soak, not a quick check.
import * as assert from 'node:assert/strict';
import { it } from 'node:test';
import { ResNet18 } from '../../lib';
import { HostTensor } from '../../lib/base/tensor';

it('1,000 forward calls do not grow the process RSS beyond noise', async () => {
  const net = await ResNet18.create({ numClasses: 10 });
  net.eval();
  const x: HostTensor = { dtype: 'float32', shape: [1, 3, 16, 16], data: new Float32Array(3 * 16 * 16).fill(0.5) };
  for (let i = 0; i < 100; i++) await net.forward(x); // warm-up: allocator pools, thread teams
  global.gc?.();
  const start = process.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) await net.forward(x);
  global.gc?.();
  const growth = process.memoryUsage().rss - start;
  net.dispose();
  assert.ok(growth < 20 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB over 1,000 forwards`);
});
