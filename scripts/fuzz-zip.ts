// Zip-aware mutations for the .pth fuzzer: the archive's structures are found leniently (a mutant
// may already be damaged), fields are forged, records rebuilt (stored or deflated), and CRCs fixed
// up so that mutants get past the CRC check and reach the reader's bounds and budget checks.
import * as zlib from 'node:zlib';
import { Rng, randint } from '../lib/data/random';
import { crc32 } from '../lib/pth/zip';
import { pick } from './fuzz-bytes';
import { INTERESTING_INTS } from './fuzz-pickle';

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const STORED = 0;
const DEFLATED = 8;

/** Where one record's headers are, as far as the bytes allow. */
interface Located {
  central: number;
  local?: number;
  name: string;
}

/** The end record and the central entries it leads to (stopping at the first that does not parse). */
function locate(zip: Buffer): { end: number; entries: Located[] } | undefined {
  let end = -1;
  for (let p = zip.length - 22; p >= Math.max(0, zip.length - 22 - 0xffff); p--) {
    if (zip.readUInt32LE(p) === END) { end = p; break; }
  }
  if (end < 0) return undefined;
  const entries: Located[] = [];
  let p = zip.readUInt32LE(end + 16);
  for (let i = 0; i < zip.readUInt16LE(end + 10) && p + 46 <= zip.length && zip.readUInt32LE(p) === CENTRAL; i++) {
    const nameLen = zip.readUInt16LE(p + 28);
    const local = zip.readUInt32LE(p + 42);
    entries.push({
      central: p,
      local: local + 30 <= zip.length && zip.readUInt32LE(local) === LOCAL ? local : undefined,
      name: zip.toString('latin1', p + 46, Math.min(zip.length, p + 46 + nameLen)),
    });
    p += 46 + nameLen + zip.readUInt16LE(p + 30) + zip.readUInt16LE(p + 32);
  }
  return { end, entries };
}

/** The stored bytes of a record (compressed when deflated), per its central sizes, if in bounds. */
function rawOf(zip: Buffer, entry: Located): Buffer | undefined {
  if (entry.local === undefined) return undefined;
  const start = entry.local + 30 + zip.readUInt16LE(entry.local + 26) + zip.readUInt16LE(entry.local + 28);
  const size = zip.readUInt32LE(entry.central + 20);
  return start + size <= zip.length ? zip.subarray(start, start + size) : undefined;
}

/** Recomputes every record's CRC (deflated ones when they inflate) in both headers, in place. */
export function fixCrcs(zip: Buffer): void {
  for (const entry of locate(zip)?.entries ?? []) {
    const raw = rawOf(zip, entry);
    if (!raw) continue;
    let data: Buffer = raw;
    if (zip.readUInt16LE(entry.central + 10) === DEFLATED) {
      try {
        data = zlib.inflateRawSync(raw, { maxOutputLength: 64 * 2 ** 20 });
      } catch {
        continue;
      }
    }
    const crc = crc32(data);
    zip.writeUInt32LE(crc, entry.central + 16);
    zip.writeUInt32LE(crc, entry.local! + 14);
  }
}

export interface ZipRecordData {
  name: string;
  data: Buffer;
  deflate?: boolean;
}

/** The records of a sound archive (a seed), uncompressed. */
export function readRecords(zip: Buffer): ZipRecordData[] {
  const found = locate(zip);
  if (!found) throw new Error('not a zip archive');
  return found.entries.map((entry) => {
    const raw = rawOf(zip, entry);
    if (!raw) throw new Error(`record ${entry.name} is out of bounds`);
    const deflate = zip.readUInt16LE(entry.central + 10) === DEFLATED;
    return { name: entry.name, data: deflate ? zlib.inflateRawSync(raw) : Buffer.from(raw), deflate };
  });
}

/** An archive laid out as torch.save lays it out (data 64-byte aligned), records stored or deflated. */
export function buildZip(records: readonly ZipRecordData[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let cursor = 0;
  for (const { name, data, deflate } of records) {
    const nameBytes = Buffer.from(name, 'latin1');
    const raw = deflate ? zlib.deflateRawSync(data) : data;
    const padding = (64 - ((cursor + 30 + nameBytes.length + 4) % 64)) % 64;
    const extra = Buffer.alloc(4 + padding, 'Z');
    extra.writeUInt16LE(0x4246, 0);
    extra.writeUInt16LE(padding, 2);
    const fields = (header: Buffer, at: number) => {
      header.writeUInt16LE(20, at);
      header.writeUInt16LE(deflate ? DEFLATED : STORED, at + 4);
      header.writeUInt32LE(crc32(data), at + 10);
      header.writeUInt32LE(raw.length, at + 14);
      header.writeUInt32LE(data.length, at + 18);
      header.writeUInt16LE(nameBytes.length, at + 22);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL, 0);
    fields(local, 4);
    local.writeUInt16LE(extra.length, 28);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(CENTRAL, 0);
    fields(entry, 6);
    entry.writeUInt32LE(cursor, 42);
    parts.push(local, nameBytes, extra, raw);
    central.push(entry, nameBytes);
    cursor += 30 + nameBytes.length + extra.length + raw.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END, 0);
  end.writeUInt16LE(records.length, 8);
  end.writeUInt16LE(records.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(cursor, 16);
  return Buffer.concat([...parts, directory, end]);
}

/** A 32-bit field value: an edge, near the original, or another record's header offset. */
function forgedValue(rng: Rng, original: number, offsets: number[]): number {
  const choice = rng.next();
  if (choice < 0.3 && offsets.length) return pick(rng, offsets);
  if (choice < 0.6) return Math.max(0, original + randint(rng, -64, 65));
  return Number(BigInt.asUintN(32, pick(rng, INTERESTING_INTS)));
}

// Fields of a central entry (offset, width) and of a local header and of the end record.
const CENTRAL_FIELDS: [string, number, 2 | 4][] = [
  ['method', 10, 2], ['crc', 16, 4], ['compressed size', 20, 4], ['size', 24, 4], ['name length', 28, 2],
  ['extra length', 30, 2], ['comment length', 32, 2], ['header offset', 42, 4],
];
const LOCAL_FIELDS: [string, number, 2 | 4][] = [
  ['method', 8, 2], ['compressed size', 18, 4], ['size', 22, 4], ['name length', 26, 2], ['extra length', 28, 2],
];
const END_FIELDS: [string, number, 2 | 4][] = [['entries', 8, 2], ['entries total', 10, 2], ['directory size', 12, 4], ['directory offset', 16, 4]];

/** Forges one header field in place; returns what it did, or undefined when the archive has no headers left. */
export function forgeField(zip: Buffer, rng: Rng): string | undefined {
  const found = locate(zip);
  if (!found) return undefined;
  const offsets = found.entries.flatMap((e) => (e.local === undefined ? [] : [e.local]));
  const where = rng.next();
  let base: number;
  let fields: [string, number, 2 | 4][];
  let what: string;
  if (where < 0.1 || !found.entries.length) {
    [base, fields, what] = [found.end, END_FIELDS, 'end record'];
  } else {
    const entry = pick(rng, found.entries);
    const local = where < 0.4 && entry.local !== undefined;
    [base, fields, what] = local ? [entry.local!, LOCAL_FIELDS, `local ${entry.name}`] : [entry.central, CENTRAL_FIELDS, `central ${entry.name}`];
  }
  const [field, at, width] = pick(rng, fields);
  if (base + at + width > zip.length) return undefined;
  const original = width === 2 ? zip.readUInt16LE(base + at) : zip.readUInt32LE(base + at);
  const value = field === 'method' ? pick(rng, [STORED, DEFLATED, 1, 12, 99]) : forgedValue(rng, original, offsets);
  if (width === 2) zip.writeUInt16LE(value & 0xffff, base + at);
  else zip.writeUInt32LE(value >>> 0, base + at);
  return `${what}: ${field} ${original} -> ${width === 2 ? value & 0xffff : value >>> 0}`;
}
