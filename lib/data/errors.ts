// Errors of the data pipeline; each names the file or folder involved.
import { ErrorCode, FinetorchError } from '../base/errors';

/** A data set that cannot be used as given: a missing root, an empty class folder, a bad file header. */
export class DatasetError extends FinetorchError {
  constructor(message: string, options?: ErrorOptions, code: ErrorCode = 'ERR_FINETORCH_DATASET') {
    super(code, message, options);
    this.name = 'DatasetError';
  }
}

/** An image that cannot be decoded: corrupt, truncated, not an image, or over the pixel limit. */
export class ImageDecodeError extends DatasetError {
  readonly file: string;

  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`Cannot decode image ${file}: ${reason}`, options, 'ERR_FINETORCH_IMAGE_DECODE');
    this.name = 'ImageDecodeError';
    this.file = file;
  }
}
