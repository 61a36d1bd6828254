// The geometric part of a transform pipeline (crops, resizes, flips), folded into one View: a crop
// of the source, a resize, a crop of the result and a mirror, which the native side runs in that
// order, so each image is decoded once (only as far as the view needs) and reshaped in one pass.
import { rangeError } from '../base/errors';

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Resampling filters, as torchvision's InterpolationMode names them. */
export type Interpolation = 'nearest' | 'bilinear' | 'bicubic';

/**
 * Where the image a transform sees comes from: crop `pre` out of the source, resize that to
 * `resized`, crop `post` out of the result (it may reach past the edges: zero padding, as
 * torchvision's centerCrop pads), then mirror left–right if `flipped`. All rectangles are in
 * unmirrored coordinates.
 */
export class View {
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  pre: Rect;
  resized: { width: number; height: number };
  post: Rect;
  flipped = false;
  interpolation: Interpolation = 'bilinear';

  constructor(width: number, height: number) {
    this.sourceWidth = width;
    this.sourceHeight = height;
    this.pre = { left: 0, top: 0, width, height };
    this.resized = { width, height };
    this.post = { left: 0, top: 0, width, height };
  }

  /** Width of the image as the next transform sees it. */
  get width(): number {
    return this.post.width;
  }

  get height(): number {
    return this.post.height;
  }

  /** Crops the current image; a box reaching past its edges pads with zeros. */
  crop(top: number, left: number, height: number, width: number): void {
    if (!(width > 0 && height > 0)) throw rangeError('ERR_FINETORCH_INVALID_ARG', `crop size must be positive, got ${height}x${width}`);
    if (this.flipped) left = this.width - left - width;
    const box = { left: this.post.left + left, top: this.post.top + top, width, height };
    if (!this.isResized() && contains(this.resized, box)) {
      // Still unscaled and inside the image: a crop of the source itself.
      this.pre = { ...box, left: this.pre.left + box.left, top: this.pre.top + box.top };
      this.resized = { width, height };
      this.post = { left: 0, top: 0, width, height };
    } else {
      this.post = box;
    }
  }

  /** Resizes the current image to width x height. */
  resize(width: number, height: number, interpolation: Interpolation): void {
    if (!(width > 0 && height > 0)) throw rangeError('ERR_FINETORCH_INVALID_ARG', `resize size must be positive, got ${height}x${width}`);
    this.interpolation = interpolation;
    if (isWhole(this.post, this.resized)) {
      this.resized = { width, height };
      this.post = { left: 0, top: 0, width, height };
      return;
    }
    // A crop already follows a resize: scale both (rare pipelines; offsets round to whole pixels).
    const fx = width / this.post.width;
    const fy = height / this.post.height;
    this.resized = { width: Math.round(this.resized.width * fx), height: Math.round(this.resized.height * fy) };
    this.post = { left: Math.round(this.post.left * fx), top: Math.round(this.post.top * fy), width, height };
  }

  flip(): void {
    this.flipped = !this.flipped;
  }

  isResized(): boolean {
    return this.resized.width !== this.pre.width || this.resized.height !== this.pre.height;
  }

  /** True when the view is at most a crop of the source: no resize, padding or flip. */
  isCropOnly(): boolean {
    return !this.flipped && !this.isResized() && isWhole(this.post, this.resized);
  }

  /** True when nothing has been cropped, resized or flipped. */
  isIdentity(): boolean {
    return this.isCropOnly() && isWhole(this.pre, { width: this.sourceWidth, height: this.sourceHeight });
  }

  /**
   * The same view of a copy of the source scaled to width x height (a cached, shrunk image):
   * the source crop scales, the output size stays.
   */
  onScaledSource(width: number, height: number): View {
    const fx = width / this.sourceWidth;
    const fy = height / this.sourceHeight;
    const view = new View(width, height);
    const left = Math.round(this.pre.left * fx);
    const top = Math.round(this.pre.top * fy);
    view.pre = {
      left, top,
      width: Math.max(1, Math.min(width - left, Math.round(this.pre.width * fx))),
      height: Math.max(1, Math.min(height - top, Math.round(this.pre.height * fy))),
    };
    view.resized = { ...this.resized };
    view.post = { ...this.post };
    view.flipped = this.flipped;
    view.interpolation = this.interpolation;
    return view;
  }

  /**
   * The same view with the source crop moved after the resize: the whole source is resized and
   * cropped afterwards, which lets the JPEG decoder shrink on load (sharp skips shrink-on-load
   * after a crop). Crop offsets round to whole output pixels.
   */
  withCropAfterResize(): View {
    const fx = this.resized.width / this.pre.width;
    const fy = this.resized.height / this.pre.height;
    const view = new View(this.sourceWidth, this.sourceHeight);
    view.resized = { width: Math.round(this.sourceWidth * fx), height: Math.round(this.sourceHeight * fy) };
    view.post = {
      left: Math.round(this.pre.left * fx) + this.post.left,
      top: Math.round(this.pre.top * fy) + this.post.top,
      width: this.post.width,
      height: this.post.height,
    };
    view.flipped = this.flipped;
    view.interpolation = this.interpolation;
    return view;
  }
}

function contains(size: { width: number; height: number }, box: Rect): boolean {
  return box.left >= 0 && box.top >= 0 && box.left + box.width <= size.width && box.top + box.height <= size.height;
}

function isWhole(box: Rect, size: { width: number; height: number }): boolean {
  return box.left === 0 && box.top === 0 && box.width === size.width && box.height === size.height;
}

/** Python's round(): halves go to the even neighbour (torchvision's crop arithmetic uses it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
