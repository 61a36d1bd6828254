// DistributedSampler against torch.utils.data.DistributedSampler, index for index.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DistributedSampler } from '../../lib';
import { runPython } from '../helpers/python';

interface Case {
  n: number;
  replicas: number;
  rank: number;
  shuffle: boolean;
  seed: number;
  dropLast: boolean;
  epoch: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  // W = 2, odd N (padding / cutting matter), epochs 0-2, both ranks; N = 1 pads more than it has.
  for (const n of [11, 1, 10])
    for (const dropLast of [false, true])
      for (const shuffle of [true, false])
        for (const epoch of [0, 1, 2])
          for (const rank of [0, 1]) out.push({ n, replicas: 2, rank, shuffle, seed: 7, dropLast, epoch });
  out.push({ n: 1000, replicas: 3, rank: 2, shuffle: true, seed: 0, dropLast: false, epoch: 5 });
  return out;
}

describe('DistributedSampler', () => {
  it("gives torch.utils.data.DistributedSampler's indices (W = 2, odd N, dropLast both ways, epochs 0-2)", async () => {
    const all = cases();
    const expected = JSON.parse(await runPython('dist_sampler.py', [JSON.stringify(all)])) as number[][];
    for (const [i, c] of all.entries()) {
      const sampler = new DistributedSampler({ length: c.n }, { numReplicas: c.replicas, rank: c.rank, shuffle: c.shuffle, seed: c.seed, dropLast: c.dropLast });
      assert.equal(sampler.length, expected[i].length, `length of ${JSON.stringify(c)}`);
      assert.deepEqual([...await sampler.indices(c.epoch)], expected[i], JSON.stringify(c));
    }
  });

});
