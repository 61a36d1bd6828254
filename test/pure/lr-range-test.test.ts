// fastai's suggestions where the range test ended too early to give them.
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { suggestLrs } from '../../lib/train/lr-range-test';

describe('suggestLrs', () => {
  it('too few points for fastai\'s trimming give no suggestion', () => {
    assert.equal(suggestLrs([1e-3, 1e-2, 1e-1], [1, 0.5, 2], 100), null);
    // numIt 6: fastai keeps points 0 .. length-5, one point of six.
    assert.equal(suggestLrs(Array.from({ length: 6 }, (_, i) => 10 ** -i), Array.from({ length: 6 }, (_, i) => 1 + i), 6), null);
    assert.notEqual(suggestLrs(Array.from({ length: 7 }, (_, i) => 10 ** -i), Array.from({ length: 7 }, (_, i) => 1 + i), 6), null);
  });
});
