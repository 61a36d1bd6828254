// uint8 NHWC RGB -> float32 NCHW, (x / 255 - mean) / std: one native pass per batch on the libuv
// pool (LibTorch), so JavaScript never loops over pixels.
import { native } from '../binding';

export function normalizeImages(
  src: Uint8Array, n: number, height: number, width: number,
  mean: readonly number[], std: readonly number[], dst: Float32Array,
): Promise<void> {
  return native.normalizeImages({ src, n, height, width, mean, std, dst });
}
