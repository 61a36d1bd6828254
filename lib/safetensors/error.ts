// The one error type the safetensors codec throws: every message starts with the file it concerns.
import { FileError, FinetorchError, rethrowAs } from '../base/errors';

export class SafetensorsError extends FileError {
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super('ERR_FINETORCH_SAFETENSORS', file, detail, options);
    this.name = 'SafetensorsError';
  }
}

/** Why the codec cannot read or write what it was given (withFile then names the file). */
export function codecError(detail: string, options?: ErrorOptions): FinetorchError {
  return new FinetorchError('ERR_FINETORCH_SAFETENSORS', detail, options);
}

/** Runs `work`, turning any failure into a SafetensorsError that names `file` (those pass through). */
export function withFile<T>(file: string, work: () => T | Promise<T>): Promise<T> {
  return rethrowAs(SafetensorsError, (detail, cause) => new SafetensorsError(file, detail, { cause }), work);
}
