// The blind mutations both fuzzers share: they know nothing of the format, only bytes.
import { Rng, randint } from '../lib/data/random';

export interface Mutant {
  bytes: Buffer;
  how: string;
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[randint(rng, 0, items.length)];
}

/** One to eight random bits flipped, in a copy. */
export function flipBits(bytes: Buffer, rng: Rng): Mutant {
  const copy = Buffer.from(bytes);
  const flips = randint(rng, 1, 9);
  for (let i = 0; i < flips; i++) copy[randint(rng, 0, copy.length)] ^= 1 << randint(rng, 0, 8);
  return { bytes: copy, how: `flip ${flips} bits` };
}

export function truncate(bytes: Buffer, rng: Rng): Mutant {
  const length = randint(rng, 0, bytes.length);
  return { bytes: bytes.subarray(0, length), how: `truncate to ${length}` };
}

/** Up to 256 bytes of `other` inserted into `bytes`, or written over it. */
export function splice(bytes: Buffer, other: Buffer, rng: Rng): Mutant {
  const from = randint(rng, 0, other.length);
  const chunk = other.subarray(from, from + randint(rng, 1, 257));
  const at = randint(rng, 0, bytes.length + 1);
  const overwrite = rng.next() < 0.5;
  return {
    bytes: Buffer.concat([bytes.subarray(0, at), chunk, bytes.subarray(overwrite ? at + chunk.length : at)]),
    how: `${overwrite ? 'overwrite' : 'insert'} ${chunk.length} bytes at ${at}`,
  };
}
