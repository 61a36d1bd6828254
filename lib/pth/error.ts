// The one error type the .pth codec throws: every message starts with the file it concerns.
import { FileError, FinetorchError, rethrowAs } from '../base/errors';

export class PthError extends FileError {
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super('ERR_FINETORCH_PTH', file, detail, options);
    this.name = 'PthError';
  }
}

/** Why the codec cannot read or write what it was given (withFile then names the file). */
export function codecError(detail: string, options?: ErrorOptions): FinetorchError {
  return new FinetorchError('ERR_FINETORCH_PTH', detail, options);
}

/** Runs `work`, turning any failure into a PthError that names `file` (PthErrors pass through). */
export function withFile<T>(file: string, work: () => T | Promise<T>): Promise<T> {
  return rethrowAs(PthError, (detail, cause) => new PthError(file, detail, { cause }), work);
}
