// The one error type the .pth codec throws: every message starts with the file it concerns.
import { FinetorchError } from '../base/errors';

export class PthError extends FinetorchError {
  constructor(readonly file: string, detail: string, options?: { cause?: unknown }) {
    super('ERR_FINETORCH_PTH', `${file}: ${detail}`, options);
    this.name = 'PthError';
  }
}

/** Why the codec cannot read or write what it was given (withFile then names the file). */
export function codecError(detail: string, options?: ErrorOptions): FinetorchError {
  return new FinetorchError('ERR_FINETORCH_PTH', detail, options);
}

/** Runs `work`, turning any failure into a PthError that names `file` (PthErrors pass through). */
export async function withFile<T>(file: string, work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PthError) throw err;
    throw new PthError(file, err instanceof Error ? err.message : String(err), { cause: err });
  }
}
