// An opt-in, memory-bounded cache of decoded pixels for the epochs after the first. It stores the
// output of a pipeline's deterministic prefix (all of it for an eval transform; the decoded,
// optionally shrunk image for a train transform, whose random crop and flip then run from the raw
// pixels). It fills until full and then keeps what it has: epochs visit every sample once, and
// evicting would only trade one miss for another.
import { internalError } from '../base/errors';
import { checkOptions, int, num } from '../base/check';
import { RgbImage } from './image';

export interface CacheOptions {
  /** Upper bound on the cached pixel bytes. */
  maxBytes: number;
  /**
   * Before a random crop, store images shrunk so the shorter side is at most this many pixels
   * (smaller, faster, slightly less detail in small crops). Default: full size.
   */
  shorterSide?: number;
}

export interface CachedImage {
  image: RgbImage;
  /** Size of the image before the cache shrank it; random crops are drawn in this frame. */
  width: number;
  height: number;
}

export class PixelCache {
  readonly maxBytes: number;
  readonly shorterSide: number;
  readonly #entries = new Map<number, CachedImage>();
  // Bytes promised to fills in flight (a batch plans all its fills before any is made).
  readonly #reserved = new Map<number, number>();
  #used = 0;

  constructor(options: CacheOptions) {
    const o = checkOptions('DataLoader cache', options, { maxBytes: num({ min: 0 }), shorterSide: int({ min: 1 }).orUndefined() });
    this.maxBytes = o.maxBytes;
    this.shorterSide = o.shorterSide ?? Infinity;
  }

  /** Bytes of the cached pixels and of the fills in flight. */
  get bytes(): number {
    return this.#used;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: number): CachedImage | undefined {
    return this.#entries.get(key);
  }

  /** Promises room for `key`'s pixels if there is room and no entry or fill for it; returns whether it did. */
  reserve(key: number, bytes: number): boolean {
    if (this.#entries.has(key) || this.#reserved.has(key) || this.#used + bytes > this.maxBytes) return false;
    this.#reserved.set(key, bytes);
    this.#used += bytes;
    return true;
  }

  /** Stores a reserved entry. */
  set(key: number, entry: CachedImage): void {
    const bytes = this.#reserved.get(key);
    if (bytes === undefined) throw internalError(`PixelCache: no room reserved for ${key}`);
    this.#reserved.delete(key);
    this.#used += entry.image.data.byteLength - bytes;
    this.#entries.set(key, entry);
  }

  /** Gives back the room of a fill that failed. */
  cancel(key: number): void {
    const bytes = this.#reserved.get(key);
    if (bytes === undefined) return;
    this.#reserved.delete(key);
    this.#used -= bytes;
  }
}
