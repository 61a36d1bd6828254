// Numeric comparisons for parity tests.
import * as assert from 'node:assert/strict';
import type { HostTensor } from '../../lib/base/tensor';

/** max|a - b| / max|b|: the "max relative error" the parity tests bound. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'length mismatch');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  const err = maxRelativeError(actual, expected);
  assert.ok(err <= tolerance, `${what}: max relative error ${err.toExponential(3)} > ${tolerance}`);
}

/** A tensor's elements summed in float64 (the parity tests compare initialisations by it). */
export function sum(t: HostTensor): number {
  let s = 0;
  for (const v of t.data) s += Number(v);
  return s;
}

/** |actual - expected| within `relative` of |expected|. */
export function closeTo(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}
