// An opt-in, memory-bounded cache of decoded pixels for the epochs after the first. It stores the
// output of a pipeline's deterministic prefix (all of it for an eval transform; the decoded,
// optionally shrunk image for a train transform, whose random crop and flip then run from the raw
// pixels). It fills until full and then keeps what it has: epochs visit every sample once, and
// evicting would only trade one miss for another.
import { checkOptions, int, num } from '../check';
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
  private readonly entries = new Map<number, CachedImage>();
  private used = 0;

  constructor(options: CacheOptions) {
    const o = checkOptions('DataLoader cache', options, { maxBytes: num({ min: 0 }), shorterSide: int({ min: 1 }).orUndefined() });
    this.maxBytes = o.maxBytes;
    this.shorterSide = o.shorterSide ?? Infinity;
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: number): CachedImage | undefined {
    return this.entries.get(key);
  }

  hasRoomFor(bytes: number): boolean {
    return this.used + bytes <= this.maxBytes;
  }

  /** Stores the entry if it fits; returns whether it did. */
  set(key: number, entry: CachedImage): boolean {
    const bytes = entry.image.data.byteLength;
    if (this.entries.has(key) || !this.hasRoomFor(bytes)) return false;
    this.entries.set(key, entry);
    this.used += bytes;
    return true;
  }
}
