// Seeded randomness for shuffling and augmentation. Every sample draws from its own generator,
// derived from (seed, epoch, index), so batches do not depend on the order in which concurrent
// decodes finish, and the same seed gives the same batches.

/** A source of uniform random numbers. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
}

/** mulberry32: a small, fast 32-bit generator, plenty for shuffles and crop parameters. */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** Mixes integers into one 32-bit seed (murmur3's finaliser after each part). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A float in [low, high). */
export function uniform(rng: Rng, low: number, high: number): number {
  return low + (high - low) * rng.next();
}

/** An integer in [low, high). */
export function randint(rng: Rng, low: number, high: number): number {
  return low + Math.floor(rng.next() * (high - low));
}

/** A random permutation of 0 .. n-1 (Fisher–Yates). */
export function randperm(n: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randint(rng, 0, i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}

/** A standard normal value (Box–Muller). */
export function normal(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}

/** A Gamma(shape, 1) value (Marsaglia and Tsang; shape < 1 through Gamma(shape + 1) x U^(1 / shape)). */
export function gamma(rng: Rng, shape: number): number {
  if (shape < 1) return gamma(rng, shape + 1) * (1 - rng.next()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A Beta(a, b) value, as numpy.random.beta draws it in distribution (not in sequence). */
export function beta(rng: Rng, a: number, b: number): number {
  const x = gamma(rng, a);
  const y = gamma(rng, b);
  return x / (x + y);
}

/** The calls timm makes on Python's `random` module, over a seeded generator (randint includes b). */
export interface PyRandom {
  random(): number;
  uniform(a: number, b: number): number;
  randint(a: number, b: number): number;
}

/** The calls timm makes on numpy.random (randint excludes high). */
export interface NpRandom {
  rand(): number;
  beta(a: number, b: number): number;
  randint(low: number, high: number): number;
}

export function pyRandom(rng: Rng): PyRandom {
  return { random: () => rng.next(), uniform: (a, b) => uniform(rng, a, b), randint: (a, b) => randint(rng, a, b + 1) };
}

export function npRandom(rng: Rng): NpRandom {
  return { rand: () => rng.next(), beta: (a, b) => beta(rng, a, b), randint: (low, high) => randint(rng, low, high) };
}
