// How many bytes reading one file may add to the file's own bytes: what inflated records add over
// their compressed bytes, and tensors copied because they cannot be views of the file (strided,
// expanded, misaligned). Each cost is charged before the allocation, so a small forged file cannot
// take the machine, as safetensors bounds its header by the file. Views of the file cost nothing.
import { codecError } from './error';

import { checkArg, checkOptions, int, str } from '../base/check';

/** The default budget is the file's size plus this: what reading allocates stays within a few times the file. */
export const BUDGET_MARGIN_BYTES = 2 ** 20;

export class Budget {
  #spent = 0;

  /** `maxBytes` undefined: the default, the file's size plus BUDGET_MARGIN_BYTES. */
  readonly #fileSize: number;
  readonly #maxBytes: number | undefined;

  constructor(fileSize: number, maxBytes?: number) {
    this.#fileSize = fileSize;
    this.#maxBytes = maxBytes;
  }

  /** The same budget, nothing spent yet: for parsing the file again from the start. */
  fresh(): Budget {
    return new Budget(this.#fileSize, this.#maxBytes);
  }

  get limit(): number {
    return this.#maxBytes ?? this.#fileSize + BUDGET_MARGIN_BYTES;
  }

  /** Charges `bytes` for `what` ("record x (...)", "tensor of size [..]"); throws when over. */
  spend(bytes: number, what: string): void {
    if (this.#spent + bytes <= this.limit) {
      this.#spent += bytes;
      return;
    }
    const source = this.#maxBytes === undefined
      ? `by default the file's size, ${this.#fileSize} bytes, plus ${BUDGET_MARGIN_BYTES / 2 ** 20} MiB`
      : 'maxBytes';
    const before = this.#spent ? ` after ${this.#spent} bytes spent on earlier ones` : '';
    throw codecError(`${what} would add ${bytes} bytes${before}, over the budget of ${this.limit} bytes for what the file ` +
      `may expand to (${source}); pass a larger maxBytes if the file is trusted`);
  }
}

const READ_OPTIONS = { maxBytes: int({ min: 0 }).orUndefined() };

/** The arguments every file reader takes: a file name, and `maxBytes` (undefined: the default budget). */
export function checkReadArgs(where: string, file: unknown, options: unknown): { maxBytes?: number } {
  checkArg(where, 'file', file, str());
  return checkOptions(where, options, READ_OPTIONS);
}
