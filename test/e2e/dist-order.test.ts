// The process group has one owner: the collectives of a rank (dist.allReduce, dist.barrier, and the
// broadcasts and gradient sums of a data-parallel model's steps) run in the order the program
// called them, so that the k-th collective of every rank meets the k-th of the others, however
// many are in flight.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { it } from 'node:test';
import { assertAllSucceeded, runRanks } from '../helpers/ranks';

const RANK = path.resolve(__dirname, '..', 'helpers', 'dist-rank.js');

it('allReduces issued at once, a data-parallel step among them, pair up across ranks in call order', { timeout: 180_000 }, async () => {
  const count = 40;
  // More libuv threads than ranks: the calls run on the pool at once, as they would in a busy program.
  const exits = await runRanks(2, () => [process.execPath, RANK, 'race', String(count)], { UV_THREADPOOL_SIZE: '8' });
  assertAllSucceeded(exits, 'race');
  // Rank r adds 1000 k + r at its k-th call: the pairs of k-th calls sum to 2000 k + 1.
  const expected = Array.from({ length: count }, (_, k) => 2000 * k + 1);
  for (const [rank, exit] of exits.entries()) assert.deepEqual(JSON.parse(exit.stdout.trim().split('\n').at(-1)!), expected, `rank ${rank}`);
});
