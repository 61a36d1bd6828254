// The one error type the .pth codec throws: every message starts with the file it concerns.
import { FileError, rethrowAs } from '../errors';

export class PthError extends FileError {
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super('ERR_FINETORCH_PTH', file, detail, options);
    this.name = 'PthError';
  }
}

/** Runs `work`, turning any failure into a PthError that names `file` (PthErrors pass through). */
export function withFile<T>(file: string, work: () => T | Promise<T>): Promise<T> {
  return rethrowAs(PthError, (detail, cause) => new PthError(file, detail, { cause }), work);
}
