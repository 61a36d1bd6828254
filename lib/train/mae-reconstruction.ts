// The picture MAE's visualisation notebook (demo/mae_visualize.ipynb) draws: per image, the
// original, the masked image (what the encoder sees), the reconstruction, and the reconstruction
// with the visible patches pasted back; one row per image, written as a PNG.
import { writeFileAtomic } from '../base/atomic';
import { checkOptions, int, num, str, arrayOf, Rule } from '../base/check';
import { HostTensor } from '../base/tensor';
import { MaskedAutoencoder } from '../model/mae';

export interface ReconstructionOptions {
  /** Where the PNG goes (written to a temporary file, then renamed). */
  file: string;
  /** The share of patches masked; default 0.75. */
  maskRatio?: number;
  /** Seeds the masking noise (see MaeForwardOptions.noiseSeed); default 0. */
  noiseSeed?: number;
  /** The normalisation the images carry, undone for display; default ImageNet's (MAE's). */
  mean?: readonly [number, number, number];
  std?: readonly [number, number, number];
  /** At most this many rows (images); default 8. */
  maxImages?: number;
}

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** The grey of masked patches: MAE's notebook shows them as zeros of the normalised image. */
const MASKED_GREY = 0;

const triple = arrayOf(num(), 3) as Rule<unknown> as Rule<readonly [number, number, number]>;

/**
 * Runs `model` on `images` [N, 3, S, S] (normalised float32) and writes the four-panel picture. A
 * model trained with normPixLoss predicts each patch's normalised pixels: they are shown at the
 * original patch's mean and variance, as MAE's notebook does for such models. Resolves to the
 * loss on these images.
 */
export async function writeReconstruction(model: MaskedAutoencoder, images: HostTensor<'float32'>, options: ReconstructionOptions): Promise<number> {
  const o = checkOptions('writeReconstruction', options, {
    file: str(), maskRatio: num({ min: 0 }).default(0.75), noiseSeed: int({ min: 0 }).default(0),
    mean: triple.default(IMAGENET_MEAN), std: triple.default(IMAGENET_STD), maxImages: int({ min: 1 }).default(8),
  });
  const n = Math.min(images.shape[0], o.maxImages);
  const [, , size] = images.shape;
  const batch: HostTensor<'float32'> = { dtype: 'float32', shape: [n, 3, size, size], data: images.data.subarray(0, n * 3 * size * size) };
  const out = await model.forwardLoss(batch, { maskRatio: o.maskRatio, noiseSeed: o.noiseSeed });
  const { patchSize: p, normPixLoss } = model.config;
  const grid = size / p;
  const plane = size * size;
  const width = 4 * size;
  const rgb = new Uint8Array(n * size * width * 3);
  const toByte = (v: number, c: number) => Math.max(0, Math.min(255, Math.round((v * o.std[c] + o.mean[c]) * 255)));
  for (let i = 0; i < n; i++) {
    const original = (c: number, y: number, x: number) => batch.data[i * 3 * plane + c * plane + y * size + x];
    for (let l = 0; l < grid * grid; l++) {
      const top = Math.floor(l / grid) * p;
      const left = (l % grid) * p;
      const masked = out.mask.data[i * grid * grid + l] === 1;
      const base = (i * grid * grid + l) * p * p * 3;
      const pred = out.pred.data;
      let shift = [0, 0, 0];
      let gain = [1, 1, 1];
      if (normPixLoss) {
        // The target was normalised over the patch's p*p*3 values together (mean, unbiased var).
        let s = 0;
        let s2 = 0;
        for (let y = 0; y < p; y++) for (let x = 0; x < p; x++) for (let c = 0; c < 3; c++) {
          const v = original(c, top + y, left + x);
          s += v;
          s2 += v * v;
        }
        const count = p * p * 3;
        const mean = s / count;
        const variance = (s2 - count * mean * mean) / (count - 1);
        shift = [mean, mean, mean];
        gain = Array(3).fill(Math.sqrt(variance + 1e-6)) as number[];
      }
      for (let y = 0; y < p; y++) {
        for (let x = 0; x < p; x++) {
          for (let c = 0; c < 3; c++) {
            const seen = original(c, top + y, left + x);
            const guess = pred[base + (y * p + x) * 3 + c] * gain[c] + shift[c];
            const panels = [seen, masked ? MASKED_GREY : seen, guess, masked ? guess : seen];
            for (let k = 0; k < 4; k++) {
              rgb[((i * size + top + y) * width + k * size + left + x) * 3 + c] = toByte(panels[k], c);
            }
          }
        }
      }
    }
  }
  const { default: sharp } = await import('sharp');
  const png = await sharp(rgb, { raw: { width, height: n * size, channels: 3 } }).png().toBuffer();
  await writeFileAtomic(o.file, png);
  return out.loss;
}
