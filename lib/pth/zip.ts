// The zip container of torch.save (PyTorch >= 1.6): reading any stored or deflated archive,
// zip64 included, and writing stored archives the way PyTorch's writer does (data 64-byte aligned).
import { constants as bufferConstants } from 'node:buffer';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { Budget } from './budget';
import type { ByteSource } from './source';
import { codecError } from './error';

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIR = 0x06054b50;
const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EXTRA = 0x0001;
const STORED = 0;
const DEFLATED = 8;
const U32_MAX = 0xffffffff;
// PyTorch pads each local header's extra field (id "FB") so that record data starts on a
// multiple of 64 bytes, which lets readers map tensors straight from the file.
const ALIGNMENT = 64;
const PADDING_ID = 0x4246; // "FB" little-endian
const DOS_DATE_1980_01_01 = 0x21;
const MAX_BUFFER_BYTES = bufferConstants.MAX_LENGTH;
const inflateRaw = promisify(zlib.inflateRaw);

/** CRC-32 as zip uses it; zlib.crc32 is native from Node 20.15, older Node 20 gets the table. */
export const crc32: (data: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : softwareCrc32;

let crcTable: Uint32Array | undefined;

export function softwareCrc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

interface Entry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  headerOffset: number;
  /** Where the record's (possibly compressed) bytes start: after the local header. */
  dataStart: number;
}

/**
 * A zip archive read through a ByteSource: the directory when opened, records on demand. From an
 * in-memory buffer, stored records come back as views over it. Records must lie side by side
 * before the central directory, as every zip writer lays them out: overlapping records (one
 * compressed record inflated under many names) are refused when the archive is opened.
 */
export class ZipReader {
  /** Record names in central-directory order. */
  readonly names: string[];

  readonly #source: ByteSource;
  readonly #entries: Map<string, Entry>;
  readonly #budget: Budget;

  private constructor(source: ByteSource, entries: Map<string, Entry>, budget: Budget) {
    this.#source = source;
    this.#entries = entries;
    this.#budget = budget;
    this.names = [...entries.keys()];
  }

  static async open(source: ByteSource, budget: Budget): Promise<ZipReader> {
    const { count, offset, size } = await findCentralDirectory(source);
    const central = await source.read(offset, size);
    const entries = new Map<string, Entry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      need(p, 46, central.length, 'central directory');
      if (central.readUInt32LE(p) !== CENTRAL_HEADER) throw codecError(`bad central directory header at byte ${offset + p}`);
      const nameLen = central.readUInt16LE(p + 28);
      const extraLen = central.readUInt16LE(p + 30);
      const commentLen = central.readUInt16LE(p + 32);
      need(p + 46, nameLen + extraLen + commentLen, central.length, 'central directory');
      const entry: Entry = {
        name: central.toString('utf8', p + 46, p + 46 + nameLen),
        method: central.readUInt16LE(p + 10),
        crc: central.readUInt32LE(p + 16),
        compressedSize: central.readUInt32LE(p + 20),
        size: central.readUInt32LE(p + 24),
        headerOffset: central.readUInt32LE(p + 42),
        dataStart: 0,
      };
      applyZip64Extra(entry, central, p + 46 + nameLen, extraLen, source.length);
      if (entries.has(entry.name)) throw codecError(`record ${entry.name} appears twice in the central directory`);
      if (entry.method === STORED && entry.compressedSize !== entry.size) throw codecError(`stored record ${entry.name} has inconsistent sizes`);
      entry.dataStart = await dataStart(source, entry);
      entries.set(entry.name, entry);
      p += 46 + nameLen + extraLen + commentLen;
    }
    checkLayout([...entries.values()], offset);
    return new ZipReader(source, entries, budget);
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Byte size of a record once extracted. */
  size(name: string): number | undefined {
    return this.#entries.get(name)?.size;
  }

  /** The record's bytes (CRC checked), or undefined when there is no such record. */
  async read(name: string): Promise<Buffer | undefined> {
    const entry = this.#entries.get(name);
    if (!entry) return undefined;
    const raw = await this.#source.read(entry.dataStart, entry.compressedSize);
    let data: Buffer;
    if (entry.method === STORED) {
      data = raw;
    } else if (entry.method === DEFLATED) {
      data = await this.#inflate(entry, raw);
    } else {
      throw codecError(`record ${name} uses unsupported compression method ${entry.method}`);
    }
    if (crc32(data) !== entry.crc) throw codecError(`CRC mismatch in record ${name}: the file is corrupt`);
    return data;
  }

  /**
   * Where a stored record's bytes lie in the archive, for reading them in place (unchecked by
   * CRC, as torch.load reads records); undefined for a compressed record.
   */
  locate(name: string): { start: number; size: number } | undefined {
    const entry = this.#entries.get(name);
    if (!entry || entry.method !== STORED) return undefined;
    return { start: entry.dataStart, size: entry.size };
  }

  /** What the declared size adds is charged to the budget before inflating; the stream may not exceed it. */
  async #inflate(entry: Entry, raw: Buffer): Promise<Buffer> {
    this.#budget.spend(Math.max(0, entry.size - entry.compressedSize), `record ${entry.name} (${entry.compressedSize} bytes deflated, ${entry.size} inflated)`);
    if (entry.size > MAX_BUFFER_BYTES) throw codecError(`record ${entry.name} declares ${entry.size} bytes, more than one buffer can hold`);
    try {
      // maxOutputLength bounds the allocation by the declared size, whatever the stream says.
      const data = await inflateRaw(raw, { maxOutputLength: Math.max(entry.size, 1) });
      if (data.length !== entry.size) throw codecError(`inflates to ${data.length} bytes, not the ${entry.size} it declares`);
      return data;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const why = code === 'ERR_BUFFER_TOO_LARGE' ? `inflates to more than the ${entry.size} bytes it declares` : (err as Error).message;
      throw codecError(`record ${entry.name} cannot be inflated: ${why} (corrupt file)`, { cause: err });
    }
  }
}

/** Where a record's data starts: after its local header, whose extra field may differ from the central one. */
async function dataStart(source: ByteSource, entry: Entry): Promise<number> {
  const p = entry.headerOffset;
  need(p, 30, source.length, `local header of ${entry.name}`);
  const header = await source.read(p, 30);
  if (header.readUInt32LE(0) !== LOCAL_HEADER) throw codecError(`bad local header for ${entry.name} at byte ${p}`);
  // (PyTorch's alignment padding lives only in the local extra field.)
  const start = p + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  need(start, entry.compressedSize, source.length, `data of ${entry.name}`);
  return start;
}

/** Records side by side, from local header to the end of the data, all before the central directory. */
function checkLayout(entries: Entry[], centralStart: number): void {
  const byStart = [...entries].sort((a, b) => a.headerOffset - b.headerOffset);
  byStart.forEach((entry, i) => {
    const end = entry.dataStart + entry.compressedSize;
    const next = byStart[i + 1];
    if (next && end > next.headerOffset) {
      throw codecError(`records ${entry.name} (bytes ${entry.headerOffset}..${end}) and ${next.name} (from byte ${next.headerOffset}) overlap: a forged archive`);
    }
    if (end > centralStart) throw codecError(`record ${entry.name} (bytes ${entry.headerOffset}..${end}) runs into the central directory at byte ${centralStart}: a forged archive`);
  });
}

async function findCentralDirectory(source: ByteSource): Promise<{ count: number; offset: number; size: number }> {
  // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
  const tailStart = Math.max(0, source.length - 22 - 0xffff);
  const tail = await source.read(tailStart, source.length - tailStart);
  let eocd = -1;
  for (let p = tail.length - 22; p >= 0; p--) {
    if (tail.readUInt32LE(p) === END_OF_CENTRAL_DIR) { eocd = p; break; }
  }
  if (eocd < 0) throw codecError('no zip end-of-central-directory record: the file is truncated or not a zip archive');
  let count = tail.readUInt16LE(eocd + 10);
  let size = tail.readUInt32LE(eocd + 12);
  let offset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || size === U32_MAX || offset === U32_MAX) {
    const locator = tailStart + eocd - 20;
    if (locator < 0 || (await source.read(locator, 4)).readUInt32LE(0) !== ZIP64_LOCATOR) throw codecError('zip64 end-of-central-directory locator missing');
    const end64 = u64(await source.read(locator + 8, 8), 0, source.length);
    need(end64, 56, source.length, 'zip64 end-of-central-directory record');
    const record = await source.read(end64, 56);
    if (record.readUInt32LE(0) !== ZIP64_END) throw codecError('bad zip64 end-of-central-directory record');
    count = u64(record, 32, source.length);
    size = u64(record, 40, source.length);
    offset = u64(record, 48, source.length);
  }
  need(offset, size, source.length, 'central directory');
  // Each entry takes at least 46 bytes: a forged count cannot make us loop past the data.
  if (count * 46 > size) throw codecError(`central directory claims ${count} records in ${size} bytes`);
  return { count, offset, size };
}

/** Zip64 keeps the true values of saturated 32-bit fields in an extra field, in this order. */
function applyZip64Extra(entry: Entry, buf: Buffer, start: number, length: number, fileSize: number): void {
  const fields = (['size', 'compressedSize', 'headerOffset'] as const).filter((f) => entry[f] === U32_MAX);
  if (fields.length === 0) return;
  for (let p = start; p + 4 <= start + length;) {
    const id = buf.readUInt16LE(p);
    const len = buf.readUInt16LE(p + 2);
    if (id === ZIP64_EXTRA) {
      if (len < 8 * fields.length) break;
      need(p + 4, 8 * fields.length, buf.length, 'zip64 field');
      fields.forEach((f, i) => { entry[f] = u64(buf, p + 4 + 8 * i, fileSize); });
      return;
    }
    p += 4 + len;
  }
  throw codecError(`record ${entry.name} lacks its zip64 sizes`);
}

function u64(buf: Buffer, p: number, fileSize: number): number {
  const value = buf.readBigUInt64LE(p);
  if (value > BigInt(fileSize)) throw codecError(`zip64 field (${value}) exceeds the file size`);
  return Number(value);
}

function need(start: number, length: number, end: number, what: string): void {
  if (start + length > end) throw codecError(`${what} at byte ${start} runs past the end of the data (truncated file?)`);
}

export interface ZipRecord {
  name: string;
  data: Uint8Array;
}

/**
 * The bytes of a stored (uncompressed) archive holding `records`, as a list of chunks to write
 * in order: fresh header buffers interleaved with the records' own data (never copied).
 */
export function zipChunks(records: readonly ZipRecord[]): Uint8Array[] {
  if (records.length >= 0xffff) throw codecError(`${records.length} records need zip64, which this writer does not write`);
  const chunks: Uint8Array[] = [];
  const central: Buffer[] = [];
  let cursor = 0;
  for (const { name, data } of records) {
    const nameBytes = Buffer.from(name, 'utf8');
    const dataStart = cursor + 30 + nameBytes.length + 4;
    const padding = (ALIGNMENT - (dataStart % ALIGNMENT)) % ALIGNMENT;
    const extra = Buffer.alloc(4 + padding, 'Z');
    extra.writeUInt16LE(PADDING_ID, 0);
    extra.writeUInt16LE(padding, 2);
    const crc = crc32(data);
    if (cursor + 30 + nameBytes.length + extra.length + data.length >= U32_MAX) {
      throw codecError('archives of 4 GiB or more need zip64, which this writer does not write');
    }
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    writeCommonFields(local, 4, crc, data.length, nameBytes.length);
    local.writeUInt16LE(extra.length, 28);
    chunks.push(local, nameBytes, extra, data);

    const header = Buffer.alloc(46);
    header.writeUInt32LE(CENTRAL_HEADER, 0);
    header.writeUInt16LE(20, 4); // made by: zip 2.0, MS-DOS attributes
    writeCommonFields(header, 6, crc, data.length, nameBytes.length);
    header.writeUInt32LE(cursor, 42);
    central.push(header, nameBytes);
    cursor += local.length + nameBytes.length + extra.length + data.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIR, 0);
  end.writeUInt16LE(records.length, 8);
  end.writeUInt16LE(records.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(cursor, 16);
  return [...chunks, ...central, end];
}

/** The fields that local and central headers share, from "version needed" to the name length. */
function writeCommonFields(b: Buffer, at: number, crc: number, size: number, nameLength: number): void {
  b.writeUInt16LE(20, at); // version needed: 2.0
  b.writeUInt16LE(0, at + 2); // flags: sizes are known up front, no data descriptor
  b.writeUInt16LE(STORED, at + 4);
  b.writeUInt16LE(0, at + 6); // time 00:00:00, fixed so that output is reproducible
  b.writeUInt16LE(DOS_DATE_1980_01_01, at + 8);
  b.writeUInt32LE(crc, at + 10);
  b.writeUInt32LE(size, at + 14); // compressed
  b.writeUInt32LE(size, at + 18); // uncompressed
  b.writeUInt16LE(nameLength, at + 22);
}
