// The zip container of torch.save (PyTorch >= 1.6): reading any stored or deflated archive,
// zip64 included, and writing stored archives the way PyTorch's writer does (data 64-byte aligned).
import * as zlib from 'node:zlib';

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
}

/** A zip archive held in memory; record data comes back as views over `buf` where stored. */
export class ZipReader {
  private readonly entries = new Map<string, Entry>();
  /** Record names in central-directory order. */
  readonly names: string[] = [];

  constructor(private readonly buf: Buffer) {
    const { count, offset, size } = this.findCentralDirectory();
    let p = offset;
    const end = offset + size;
    for (let i = 0; i < count; i++) {
      this.need(p, 46, end, 'central directory');
      if (buf.readUInt32LE(p) !== CENTRAL_HEADER) throw new Error(`bad central directory header at byte ${p}`);
      const nameLen = buf.readUInt16LE(p + 28);
      const extraLen = buf.readUInt16LE(p + 30);
      const commentLen = buf.readUInt16LE(p + 32);
      this.need(p + 46, nameLen + extraLen + commentLen, end, 'central directory');
      const entry: Entry = {
        name: buf.toString('utf8', p + 46, p + 46 + nameLen),
        method: buf.readUInt16LE(p + 10),
        crc: buf.readUInt32LE(p + 16),
        compressedSize: buf.readUInt32LE(p + 20),
        size: buf.readUInt32LE(p + 24),
        headerOffset: buf.readUInt32LE(p + 42),
      };
      this.applyZip64Extra(entry, p + 46 + nameLen, extraLen);
      this.entries.set(entry.name, entry);
      this.names.push(entry.name);
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Byte size of a record once extracted. */
  size(name: string): number | undefined {
    return this.entries.get(name)?.size;
  }

  /** The record's bytes (CRC checked), or undefined when there is no such record. */
  read(name: string): Buffer | undefined {
    const entry = this.entries.get(name);
    if (!entry) return undefined;
    const buf = this.buf;
    const p = entry.headerOffset;
    this.need(p, 30, buf.length, `local header of ${name}`);
    if (buf.readUInt32LE(p) !== LOCAL_HEADER) throw new Error(`bad local header for ${name} at byte ${p}`);
    // The local extra field may differ from the central one (PyTorch's padding lives only here).
    const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
    this.need(start, entry.compressedSize, buf.length, `data of ${name}`);
    const raw = buf.subarray(start, start + entry.compressedSize);
    let data: Buffer;
    if (entry.method === STORED) {
      if (entry.compressedSize !== entry.size) throw new Error(`stored record ${name} has inconsistent sizes`);
      data = raw;
    } else if (entry.method === DEFLATED) {
      // maxOutputLength bounds the allocation by the declared size, whatever the stream says.
      data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(entry.size, 1) });
      if (data.length !== entry.size) throw new Error(`record ${name} inflates to ${data.length} bytes, not ${entry.size}`);
    } else {
      throw new Error(`record ${name} uses unsupported compression method ${entry.method}`);
    }
    if (crc32(data) !== entry.crc) throw new Error(`CRC mismatch in record ${name}: the file is corrupt`);
    return data;
  }

  private findCentralDirectory(): { count: number; offset: number; size: number } {
    const buf = this.buf;
    // The end record is the last 22 bytes plus a comment of at most 65535 bytes.
    const lowest = Math.max(0, buf.length - 22 - 0xffff);
    let eocd = -1;
    for (let p = buf.length - 22; p >= lowest; p--) {
      if (buf.readUInt32LE(p) === END_OF_CENTRAL_DIR) { eocd = p; break; }
    }
    if (eocd < 0) throw new Error('no zip end-of-central-directory record: the file is truncated or not a zip archive');
    let count = buf.readUInt16LE(eocd + 10);
    let size = buf.readUInt32LE(eocd + 12);
    let offset = buf.readUInt32LE(eocd + 16);
    if (count === 0xffff || size === U32_MAX || offset === U32_MAX) {
      const locator = eocd - 20;
      if (locator < 0 || buf.readUInt32LE(locator) !== ZIP64_LOCATOR) throw new Error('zip64 end-of-central-directory locator missing');
      const end64 = this.u64(locator + 8);
      this.need(end64, 56, buf.length, 'zip64 end-of-central-directory record');
      if (buf.readUInt32LE(end64) !== ZIP64_END) throw new Error('bad zip64 end-of-central-directory record');
      count = this.u64(end64 + 32);
      size = this.u64(end64 + 40);
      offset = this.u64(end64 + 48);
    }
    this.need(offset, size, buf.length, 'central directory');
    // Each entry takes at least 46 bytes: a forged count cannot make us loop past the data.
    if (count * 46 > size) throw new Error(`central directory claims ${count} records in ${size} bytes`);
    return { count, offset, size };
  }

  /** Zip64 keeps the true values of saturated 32-bit fields in an extra field, in this order. */
  private applyZip64Extra(entry: Entry, start: number, length: number): void {
    const fields = (['size', 'compressedSize', 'headerOffset'] as const).filter((f) => entry[f] === U32_MAX);
    if (fields.length === 0) return;
    for (let p = start; p + 4 <= start + length;) {
      const id = this.buf.readUInt16LE(p);
      const len = this.buf.readUInt16LE(p + 2);
      if (id === ZIP64_EXTRA) {
        if (len < 8 * fields.length) break;
        fields.forEach((f, i) => { entry[f] = this.u64(p + 4 + 8 * i); });
        return;
      }
      p += 4 + len;
    }
    throw new Error(`record ${entry.name} lacks its zip64 sizes`);
  }

  private u64(p: number): number {
    this.need(p, 8, this.buf.length, 'zip64 field');
    const value = this.buf.readBigUInt64LE(p);
    if (value > BigInt(this.buf.length)) throw new Error(`zip64 field at byte ${p} (${value}) exceeds the file size`);
    return Number(value);
  }

  private need(start: number, length: number, end: number, what: string): void {
    if (start + length > end) throw new Error(`${what} at byte ${start} runs past the end of the data (truncated file?)`);
  }
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
  if (records.length >= 0xffff) throw new Error(`${records.length} records need zip64, which this writer does not write`);
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
      throw new Error('archives of 4 GiB or more need zip64, which this writer does not write');
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
