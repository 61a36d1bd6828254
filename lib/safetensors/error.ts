// The one error type the safetensors codec throws: every message starts with the file it concerns.
import { FileError, rethrowAs } from '../errors';

export class SafetensorsError extends FileError {
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super('ERR_FINETORCH_SAFETENSORS', file, detail, options);
    this.name = 'SafetensorsError';
  }
}

/** Runs `work`, turning any failure into a SafetensorsError that names `file` (those pass through). */
export function withFile<T>(file: string, work: () => T | Promise<T>): Promise<T> {
  return rethrowAs(SafetensorsError, (detail, cause) => new SafetensorsError(file, detail, { cause }), work);
}
