// A data set of given images (files, or pixels in memory) whose sample i has target i: what
// `finetorch predict` reads, so that each result finds its image.
import { ImageDataset, ImageDatasetOptions } from './dataset';
import type { ImageSource } from './image';

/** @internal */
export class ImageList extends ImageDataset {
  readonly #sources: readonly ImageSource[];

  constructor(sources: readonly ImageSource[], options: ImageDatasetOptions = {}) {
    super(options);
    this.#sources = sources;
  }

  get length(): number {
    return this.#sources.length;
  }

  target(index: number): number {
    return index;
  }

  protected source(index: number): ImageSource {
    return this.#sources[index];
  }
}
