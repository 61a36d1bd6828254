// dist before dist.init(): bad options and every collective refused, the backends this build has;
// DistributedSampler driving a DataLoader, and its checks.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataLoader, Dataset, DistributedSampler, dist } from '../../lib';
import { View } from '../../lib/data/geometry';

describe('dist without a job', () => {
  it('refuses bad options and every collective before init; this build has gloo', async () => {
    await assert.rejects(dist.init({ backend: 'mpi' } as never), { code: 'ERR_FINETORCH_INVALID_ARG', message: /backend must be one of 'gloo', 'nccl'/ });
    await assert.rejects(dist.init({ timeout: 5 } as never), { code: 'ERR_FINETORCH_UNKNOWN_OPTION', message: /did you mean 'timeoutMs'/ });
    await assert.rejects(dist.allReduce([1]), { code: 'ERR_FINETORCH_DIST', message: 'dist.allReduce: call dist.init() first' });
    assert.throws(() => dist.rank, /dist\.rank: call dist\.init\(\) first/);
    assert.equal(dist.isInitialized, false);
    assert.ok(dist.backends.includes('gloo'), `backends: ${dist.backends}`);
  });
});

describe('DistributedSampler', () => {
  it('drives a DataLoader: its batches are the sampled indices, reshuffled by setEpoch', async () => {
    // Each sample's target is its index.
    const dataset: Dataset = {
      length: 11,
      pipeline: { image: [], mean: [0, 0, 0], std: [1, 1, 1], deterministicPrefix: 0 },
      plan: async (index) => ({ target: index, job: { source: { width: 1, height: 1, channels: 3, data: new Uint8Array(3) }, view: new View(1, 1), decode: {} } }),
    };
    const sampler = new DistributedSampler(dataset, { numReplicas: 2, rank: 1, seed: 3 });
    const loader = new DataLoader(dataset, { batchSize: 4, sampler });
    assert.equal(loader.length, 2);
    for (const epoch of [4, 5]) {
      loader.setEpoch(epoch);
      const seen: number[] = [];
      for await (const b of loader) seen.push(...b.target);
      assert.deepEqual(seen, [...await sampler.indices(epoch)]);
    }
  });

  it('refuses shuffle together with a sampler, and a rank outside numReplicas', () => {
    assert.throws(() => new DistributedSampler({ length: 5 }, { numReplicas: 2, rank: 2 }), { code: 'ERR_FINETORCH_INVALID_ARG' });
    assert.throws(() => new DistributedSampler({ length: 5 }, { numReplicas: 2, rank: 0, drop_last: true } as never), { code: 'ERR_FINETORCH_UNKNOWN_OPTION' });
    assert.throws(() => new DistributedSampler({ length: 5 }), /dist\.worldSize: call dist\.init\(\) first/);
  });
});
