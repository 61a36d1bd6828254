// Idle cached CPU memory returns by itself: ResNet-18s created and dropped without dispose(),
// collected by the GC, leave their blocks in the CPU cache, and those go back to the system once
// idle (native/core/cpu_allocator.cc), so that the process's RSS comes back near where it started
// without cpuMemory.emptyCache(). A fresh process, so that its RSS is the models' alone.
import * as assert from 'node:assert/strict';
import { it } from 'node:test';
import { droppedModelsInChild } from '../../scripts/bench-memory';

it('30 dropped ResNet-18s: their idle blocks go back by themselves, and the RSS comes back near its start', { timeout: 180_000 }, async (t) => {
  const r = await droppedModelsInChild(30);
  t.diagnostic(JSON.stringify(r));
  const grown = r.peakMiB - r.startMiB;
  assert.ok(grown > 500, `the models took ${grown} MiB at the peak: too little for the test to mean anything`);
  assert.ok(r.cachedAfterCollection > 0, 'the collected models left blocks in the cache (else there is nothing to decay)');
  assert.ok(r.decaySeconds < 30, `the cache still held ${r.cachedAfterCollection} idle bytes after 30 s`);
  assert.ok(r.decayedMiB - r.startMiB <= 0.15 * grown, `RSS ${r.decayedMiB} MiB after the decay, ${r.startMiB} at the start, ${r.peakMiB} at the peak`);
});
