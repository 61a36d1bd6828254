// Small images for the data tests, written with sharp.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import sharp from 'sharp';
import { mulberry32 } from '../../lib/data/random';
import { renderPhoto } from '../../scripts/make-corpus';

/** A photo-like picture (gradients, shapes, texture, noise). */
export function photo(width: number, height: number, seed = 1): Promise<sharp.Sharp> {
  return renderPhoto(width, height, mulberry32(seed), seed);
}

/** RGB pixels where every position is distinguishable: (x, y, x ^ y). */
export function coordinates(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x, y, (x ^ y) & 255], (y * width + x) * 3);
  }
  return data;
}

/** Writes the image to root/<relative>, creating folders. */
export async function write(root: string, relative: string, image: sharp.Sharp | Buffer | string): Promise<string> {
  const file = path.join(root, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (typeof image === 'string' || Buffer.isBuffer(image)) fs.writeFileSync(file, image);
  else await image.toFile(file);
  return file;
}

/** A PNG whose header claims width x height but holds almost no data (a decompression bomb's header). */
export function pngHeaderBomb(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const idat = zlib.deflateSync(Buffer.alloc(1024));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

/** Mean absolute difference of two equally long arrays. */
export function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`lengths differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

/** A raw PPM (P6), or a raw PGM (P5) when given one channel. */
export function netpbm(width: number, height: number, pixels: Uint8Array, channels: 1 | 3 = 3): Buffer {
  return Buffer.concat([Buffer.from(`P${channels === 3 ? 6 : 5}\n# finetorch test\n${width} ${height}\n255\n`, 'latin1'), pixels]);
}

/** A 24-bit BMP (bottom-up, rows padded to 4 bytes) of RGB pixels. */
export function bmp24(width: number, height: number, rgb: Uint8Array): Buffer {
  const stride = (width * 3 + 3) & ~3;
  const header = Buffer.alloc(54);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(54 + stride * height, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * 3;
      rows.set([rgb[from + 2], rgb[from + 1], rgb[from]], (height - 1 - y) * stride + x * 3);
    }
  }
  return Buffer.concat([header, rows]);
}

/**
 * A JPEG made by libjpeg-turbo's own tools (Debian's libjpeg-turbo-progs): cjpeg encodes a PPM
 * (any chroma subsampling), jpegtran rewrites a JPEG losslessly (restart markers, arithmetic coding).
 */
export function jpegTool(tool: 'cjpeg' | 'jpegtran', input: Buffer, args: string[]): Buffer {
  return execFileSync(tool, args, { input, maxBuffer: 1 << 28 });
}

/** A baseline JPEG whose frame header claims another size than its data holds. */
export function withClaimedSize(jpeg: Buffer, size: { width?: number; height?: number }): Buffer {
  const out = Buffer.from(jpeg);
  const sof = out.indexOf(Buffer.from([0xff, 0xc0]));
  if (sof < 0) throw new Error('no baseline frame header (SOF0)');
  if (size.height !== undefined) out.writeUInt16BE(size.height, sof + 5);
  if (size.width !== undefined) out.writeUInt16BE(size.width, sof + 7);
  return out;
}

/**
 * A BMP of palette indices (8 bits, or 4 with RLE4): uncompressed (rows padded to 4 bytes), RLE8 or
 * RLE4 (each row as runs of equal indices, then end-of-line; end-of-bitmap last). Bottom-up.
 */
export function bmpIndexed(width: number, height: number, indices: Uint8Array, palette: Uint8Array, compression: 0 | 1 | 2): Buffer {
  const bits = compression === 2 ? 4 : 8;
  const rows: Buffer[] = [];
  for (let y = height - 1; y >= 0; y--) {
    const row = indices.subarray(y * width, (y + 1) * width);
    if (compression === 0) {
      rows.push(Buffer.concat([Buffer.from(row), Buffer.alloc((4 - (width % 4)) % 4)]));
      continue;
    }
    const runs: number[] = [];
    for (let x = 0; x < width;) {
      let n = 1;
      while (x + n < width && n < 255 && row[x + n] === row[x]) n++;
      runs.push(n, compression === 2 ? (row[x] << 4) | row[x] : row[x]);
      x += n;
    }
    rows.push(Buffer.from([...runs, 0, 0]));
  }
  if (compression !== 0) rows.push(Buffer.from([0, 1]));
  const pixels = Buffer.concat(rows);
  const colours = palette.length / 3;
  const header = Buffer.alloc(54 + 4 * colours);
  header.write('BM', 0, 'latin1');
  header.writeUInt32LE(header.length + pixels.length, 2);
  header.writeUInt32LE(header.length, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(bits, 28);
  header.writeUInt32LE(compression, 30);
  header.writeUInt32LE(pixels.length, 34);
  header.writeUInt32LE(colours, 46);
  for (let i = 0; i < colours; i++) header.set([palette[3 * i + 2], palette[3 * i + 1], palette[3 * i]], 54 + 4 * i);
  return Buffer.concat([header, pixels]);
}
