// Generates a synthetic, photo-like image corpus in ImageFolder layout for the benchmarks: JPEGs of
// gradients, shapes, strokes, fractal texture and sensor-like noise (so they compress and decode
// like photos, not like flat graphics), rendered offline by sharp from SVG. Deterministic for a
// given seed, and kept on disk: a second call with the same options reuses the files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { mixSeed, mulberry32, Rng } from '../lib/data/random';

export interface CorpusOptions {
  /** Parent folder; the corpus goes to a subfolder named after the options. */
  dir?: string;
  count?: number;
  classes?: number;
  /** Each side is drawn uniformly from [minSide, maxSide]. */
  minSide?: number;
  maxSide?: number;
  quality?: number;
  seed?: number;
  /** Images rendered at once. */
  concurrency?: number;
}

const SVG_SIDE = 800;

export const BENCH_DIR = path.resolve(__dirname, '..', '..', '.bench');

/** Creates the corpus (unless already there) and returns its root folder. */
export async function makeCorpus(options: CorpusOptions = {}): Promise<string> {
  const { count = 1000, classes = 10, minSide = 300, maxSide = 600, quality = 90, seed = 0, concurrency = 2 } = options;
  const root = path.join(options.dir ?? BENCH_DIR, `corpus-${count}x${minSide}-${maxSide}-q${quality}-s${seed}`);
  const done = path.join(root, '.complete');
  if (fs.existsSync(done)) return root;
  for (let c = 0; c < classes; c++) fs.mkdirSync(path.join(root, `class${c}`), { recursive: true });
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const i = next++;
      const rng = mulberry32(mixSeed(seed, i));
      const width = minSide + Math.floor(rng.next() * (maxSide - minSide + 1));
      const height = minSide + Math.floor(rng.next() * (maxSide - minSide + 1));
      const file = path.join(root, `class${i % classes}`, `img${String(i).padStart(5, '0')}.jpg`);
      await renderPhoto(width, height, rng, mixSeed(seed, i, 1)).then((img) => img.jpeg({ quality }).toFile(file));
    }
  }));
  fs.writeFileSync(done, JSON.stringify({ count, classes, minSide, maxSide, quality, seed }));
  return root;
}

/** One photo-like picture as a sharp pipeline, ready for an encoder. */
export async function renderPhoto(width: number, height: number, rng: Rng, noiseSeed = 0): Promise<sharp.Sharp> {
  const r = (): number => rng.next();
  const colour = (): string => `rgb(${Math.floor(r() * 256)},${Math.floor(r() * 256)},${Math.floor(r() * 256)})`;
  const shapes: string[] = [];
  for (let k = 0; k < 12; k++) {
    const kind = r();
    if (kind < 0.4) {
      shapes.push(`<ellipse cx="${r() * width}" cy="${r() * height}" rx="${10 + (r() * width) / 4}" ry="${10 + (r() * height) / 4}" fill="${colour()}" opacity="${0.5 + r() / 2}"/>`);
    } else if (kind < 0.7) {
      shapes.push(`<rect x="${r() * width}" y="${r() * height}" width="${10 + (r() * width) / 3}" height="${10 + (r() * height) / 3}" fill="${colour()}" transform="rotate(${r() * 90} ${width / 2} ${height / 2})"/>`);
    } else {
      shapes.push(`<path d="M${r() * width},${r() * height} Q${r() * width},${r() * height} ${r() * width},${r() * height}" stroke="${colour()}" stroke-width="${1 + r() * 8}" fill="none"/>`);
    }
  }
  // Big pictures: draw at most SVG_SIDE px wide and enlarge (librsvg's turbulence filter is slow);
  // the sensor noise below still comes at full resolution.
  const scale = Math.min(1, SVG_SIDE / Math.max(width, height));
  const [drawWidth, drawHeight] = [Math.round(width * scale), Math.round(height * scale)];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${drawWidth}" height="${drawHeight}" viewBox="0 0 ${width} ${height}">
<defs><linearGradient id="g" x1="0" y1="0" x2="${r()}" y2="1"><stop offset="0" stop-color="${colour()}"/><stop offset="1" stop-color="${colour()}"/></linearGradient>
<filter id="t" x="0" y="0" width="100%" height="100%"><feTurbulence type="fractalNoise" baseFrequency="${0.05 + r() * 0.4}" numOctaves="3" seed="${noiseSeed % 10000}"/><feColorMatrix type="saturate" values="0"/></filter></defs>
<rect width="100%" height="100%" fill="url(#g)"/>${shapes.join('')}<rect width="100%" height="100%" filter="url(#t)" opacity="0.35" style="mix-blend-mode:overlay"/></svg>`;
  let base = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (scale < 1) {
    // From raw pixels: resizing the SVG input itself would re-render it at full size.
    base = await sharp(base.data, { raw: rawInfo(base.info) }).resize(width, height, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  }
  // Sensor-like noise, slightly blurred as a camera's would be (seeded, unlike sharp's own noise).
  const noise = await sharp(sensorNoise(width * height * 3, mulberry32(noiseSeed)), { raw: { width, height, channels: 3 } })
    .blur(0.5).raw().toBuffer();
  return sharp(base.data, { raw: rawInfo(base.info) }).composite([{ input: noise, raw: { width, height, channels: 3 }, blend: 'overlay' }]);
}

/** Approximately Gaussian bytes around 128 (sigma 18): a sum of four uniforms, rescaled. */
function sensorNoise(length: number, rng: Rng): Uint8Array {
  const out = new Uint8Array(length);
  const sigma = 18 / Math.sqrt(4 / 12);
  for (let i = 0; i < length; i++) out[i] = 128 + (rng.next() + rng.next() + rng.next() + rng.next() - 2) * sigma;
  return out;
}

function rawInfo(info: sharp.OutputInfo): sharp.CreateRaw {
  return { width: info.width, height: info.height, channels: info.channels as 3 };
}

if (require.main === module) {
  const [count, minSide, maxSide] = process.argv.slice(2).map(Number);
  makeCorpus({ count: count || undefined, minSide: minSide || undefined, maxSide: maxSide || undefined })
    .then((root) => console.log(root), (err) => {
      console.error(err);
      process.exit(1);
    });
}
