// The weights fuzzer's mutator: from a real torch.save or safetensors file (a seed) it makes a
// mutant by one to three mutations, blind (bit flips, edge values, truncation, splices with other
// seeds) or aware of the format (pickle opcodes, zip header fields, legacy storage counts, records
// re-deflated; safetensors' JSON header, its length field and its buffer), with zip CRCs fixed up
// so that most mutants get past the CRC check. Deterministic in its Rng.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng, randint } from '../lib/data/random';
import { flipBits, Mutant, pick, splice, truncate } from './fuzz-bytes';
import { INTERESTING_INTS, joinOps, mutateOps, splitPickle } from './fuzz-pickle';
import { mutateBuffer, mutateHeaderJson, mutateHeaderLength, mutateHeaderText } from './fuzz-safetensors';
import { buildZip, fixCrcs, forgeField, readRecords } from './fuzz-zip';

export type SeedFormat = 'zip' | 'legacy' | 'safetensors';

export interface Seed {
  name: string;
  bytes: Buffer;
  format: SeedFormat;
  /** Holds ResNet-18 keys with true shapes: also fed to net.loadPth and ResNet18.load. */
  resnet: boolean;
}

/** The weights files' extensions the fuzzer reads (a .safetensors file is fed to the safetensors readers). */
export const SEED_EXTENSIONS = ['.pth', '.safetensors'];

/** The seed files of a folder (*.pth, *.safetensors), in name order. */
export function readSeeds(dir: string): Seed[] {
  const names = fs.readdirSync(dir).filter((f) => SEED_EXTENSIONS.includes(path.extname(f))).sort();
  if (!names.length) throw new Error(`no .pth or .safetensors seeds in ${dir}`);
  return names.map((name) => {
    const bytes = fs.readFileSync(path.join(dir, name));
    const format = name.endsWith('.safetensors') ? 'safetensors' : bytes.readUInt32LE(0) === 0x04034b50 ? 'zip' : 'legacy';
    return { name, bytes, format, resnet: name.startsWith('resnet') };
  });
}

type Mutation = (bytes: Buffer, seed: Seed, seeds: readonly Seed[], rng: Rng) => { bytes: Buffer; how: string } | undefined;

const PTH: readonly SeedFormat[] = ['zip', 'legacy'];
const SAFETENSORS: readonly SeedFormat[] = ['safetensors'];

/** Each mutation, how often it is drawn, and the seed formats it applies to (all when absent). */
const mutations: Record<string, { weight: number; formats?: readonly SeedFormat[]; run: Mutation }> = {
  pickle: { weight: 35, formats: PTH, run: mutatePickle },
  'header json': { weight: 35, formats: SAFETENSORS, run: (bytes, _seed, _seeds, rng) => mutateHeaderJson(bytes, rng) },
  'header text': { weight: 20, formats: SAFETENSORS, run: (bytes, _seed, _seeds, rng) => mutateHeaderText(bytes, rng) },
  'header length': { weight: 5, formats: SAFETENSORS, run: (bytes, _seed, _seeds, rng) => mutateHeaderLength(bytes, rng) },
  buffer: { weight: 5, formats: SAFETENSORS, run: (bytes, _seed, _seeds, rng) => mutateBuffer(bytes, rng) },
  'zip field': {
    weight: 12, formats: ['zip'],
    run: (bytes, _seed, _seeds, rng) => {
      const copy = Buffer.from(bytes);
      const how = forgeField(copy, rng);
      if (how && rng.next() < 0.5) fixCrcs(copy);
      return how ? { bytes: copy, how } : undefined;
    },
  },
  'record bytes': {
    weight: 10, formats: ['zip'],
    run: (bytes, _seed, _seeds, rng) => {
      const records = tryRecords(bytes);
      if (!records?.length) return undefined;
      const record = pick(rng, records);
      if (!record.data.length) return undefined;
      const data = Buffer.from(record.data);
      const at = randint(rng, 0, data.length);
      data[at] ^= 1 << randint(rng, 0, 8);
      record.data = data;
      return { bytes: buildZip(records), how: `flip a bit at byte ${at} of ${record.name} (CRC fixed)` };
    },
  },
  recompress: {
    weight: 5, formats: ['zip'],
    run: (bytes, _seed, _seeds, rng) => {
      const records = tryRecords(bytes);
      if (!records) return undefined;
      records.forEach((r) => { r.deflate = rng.next() < 0.5; });
      return { bytes: buildZip(records), how: `deflate ${records.filter((r) => r.deflate).map((r) => r.name).join(', ') || 'nothing'}` };
    },
  },
  'legacy count': { weight: 8, formats: ['legacy'], run: mutateLegacyCount },
  bitflip: { weight: 10, run: (bytes, seed, _seeds, rng) => fixed(flipBits(bytes, rng), seed, rng) },
  'edge value': {
    weight: 10,
    run: (bytes, seed, _seeds, rng) => {
      const copy = Buffer.from(bytes);
      const width = pick(rng, [1, 2, 4, 8] as const);
      const at = randint(rng, 0, Math.max(1, copy.length - width));
      if (at + width > copy.length) return undefined;
      const value = BigInt.asUintN(8 * width, pick(rng, INTERESTING_INTS));
      for (let i = 0; i < width; i++) copy[at + i] = Number((value >> BigInt(8 * i)) & 0xffn);
      return { bytes: fixMaybe(copy, seed, rng), how: `${width}-byte ${value} at ${at}` };
    },
  },
  truncate: { weight: 4, run: (bytes, _seed, _seeds, rng) => truncate(bytes, rng) },
  splice: { weight: 6, run: (bytes, seed, seeds, rng) => fixed(splice(bytes, pick(rng, seeds).bytes, rng), seed, rng) },
};

/** A blind mutant with its zip CRCs fixed up, sometimes (see fixMaybe). */
function fixed(mutant: Mutant, seed: Seed, rng: Rng): Mutant {
  return { bytes: fixMaybe(mutant.bytes, seed, rng), how: mutant.how };
}

/** A mutant of `seed`: one to three mutations (each may be refused by a damaged input, then another runs). */
export function mutate(seed: Seed, seeds: readonly Seed[], rng: Rng): { bytes: Buffer; how: string[] } {
  const usable = Object.entries(mutations).filter(([, m]) => !m.formats || m.formats.includes(seed.format));
  const total = usable.reduce((sum, [, m]) => sum + m.weight, 0);
  let bytes = seed.bytes;
  const how: string[] = [];
  const rounds = rng.next() < 0.6 ? 1 : randint(rng, 2, 4);
  for (let attempt = 0; how.length < rounds && attempt < 10; attempt++) {
    let ticket = rng.next() * total;
    const [name, mutation] = usable.find(([, m]) => (ticket -= m.weight) < 0) ?? usable[0];
    const result = mutation.run(bytes, seed, seeds, rng);
    if (!result) continue;
    bytes = result.bytes;
    how.push(`${name}: ${result.how}`);
  }
  return { bytes, how };
}

/** Blind mutations of a zip get their CRCs fixed half the time (else they mostly stop at the CRC check). */
function fixMaybe(bytes: Buffer, seed: Seed, rng: Rng): Buffer {
  if (seed.format === 'zip' && rng.next() < 0.5) fixCrcs(bytes);
  return bytes;
}

function tryRecords(bytes: Buffer): ReturnType<typeof readRecords> | undefined {
  try {
    return readRecords(bytes);
  } catch {
    return undefined;
  }
}

/** Rewrites the data pickle (zip: data.pkl; legacy: any of its five pickles, mostly the data one). */
function mutatePickle(bytes: Buffer, seed: Seed, _seeds: readonly Seed[], rng: Rng): { bytes: Buffer; how: string } | undefined {
  if (seed.format === 'zip') {
    const records = tryRecords(bytes);
    const record = records?.find((r) => r.name.endsWith('/data.pkl'));
    const split = record && splitPickle(record.data);
    if (!records || !record || !split) return undefined;
    const how = mutateOps(split.ops, rng);
    record.data = Buffer.concat([joinOps(split.ops), record.data.subarray(split.end)]);
    return { bytes: buildZip(records), how: `data.pkl ${how}` };
  }
  const pickles: { start: number; end: number; ops: ReturnType<typeof splitPickle> }[] = [];
  for (let start = 0; pickles.length < 5;) {
    const split = splitPickle(bytes, start);
    if (!split) break;
    pickles.push({ start, end: split.end, ops: split });
    start = split.end;
  }
  if (!pickles.length) return undefined;
  const index = pickles.length >= 4 && rng.next() < 0.7 ? 3 : randint(rng, 0, pickles.length);
  const { start, end, ops } = pickles[index];
  const how = mutateOps(ops!.ops, rng);
  return { bytes: Buffer.concat([bytes.subarray(0, start), joinOps(ops!.ops), bytes.subarray(end)]), how: `pickle ${index} ${how}` };
}

/** Forges the int64 element count in front of one legacy storage. */
function mutateLegacyCount(bytes: Buffer, _seed: Seed, _seeds: readonly Seed[], rng: Rng): { bytes: Buffer; how: string } | undefined {
  let end = 0;
  for (let i = 0; i < 5; i++) {
    const split = splitPickle(bytes, end);
    if (!split) return undefined;
    end = split.end;
  }
  // The storages follow the five pickles, each as an int64 count and its bytes; forge the first
  // count, or one at a random later position (past the storage section's start).
  const at = rng.next() < 0.5 ? end : end + 8 * randint(rng, 0, Math.max(1, (bytes.length - end) >> 3));
  if (at + 8 > bytes.length) return undefined;
  const copy = Buffer.from(bytes);
  const value = BigInt.asIntN(64, pick(rng, INTERESTING_INTS));
  copy.writeBigInt64LE(value, at);
  return { bytes: copy, how: `int64 ${value} at ${at}` };
}
