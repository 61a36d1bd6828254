// One owner of a native object's state: every call on a model (and on its optimizer) runs through
// its queue, one at a time and in call order, so a call never sees the object half-way through
// another. Errors keep their class and gain the operation's name, the original as their cause.
import { ErrorCode, FinetorchError, withContext } from './errors';

export class OperationQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #running = 0;
  /** A failure of a posted operation, reported by the next operation that runs. */
  #failure?: { label: string; error: unknown };

  /** Operations queued and not yet settled. */
  get pending(): number {
    return this.#running;
  }

  /** Runs `op` after every earlier operation; its errors name `label`. */
  run<T>(label: string | (() => string), op: () => Promise<T>): Promise<T> {
    const name = typeof label === 'string' ? () => label : label;
    this.#running++;
    const result = this.#tail.then(() => {
      const earlier = this.#failure;
      if (earlier) {
        this.#failure = undefined;
        throw new FinetorchError(codeOf(earlier.error), `${name()}: not run, because the earlier ${earlier.label} failed: ` +
          `${(earlier.error as Error).message}`, { cause: earlier.error });
      }
      return op();
    }).finally(() => this.#running--);
    this.#tail = result.catch(() => undefined);
    return result.catch((err: unknown) => {
      throw withContext(name(), err);
    });
  }

  /**
   * Queues `op` for an API that returns synchronously (replaceFc, freeze): it runs in order like
   * any other, and if it fails, the next operation on the queue rejects with its error.
   */
  post(label: string, op: () => Promise<unknown>): void {
    this.#running++;
    const result = this.#tail.then(op).finally(() => this.#running--);
    this.#tail = result.catch((error: unknown) => {
      this.#failure = { label, error };
    });
  }

  /**
   * A turn on this queue, taken now: resolves, once everything queued before it has settled, to
   * the function that ends the turn (later operations wait for it). For work that needs this
   * queue and another at once, both taken in call order (a data-parallel step: its model's queue
   * and the process group's).
   */
  turn(): Promise<() => void> {
    this.#running++;
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const start = this.#tail;
    this.#tail = start.then(() => ended).finally(() => this.#running--);
    return start.then(() => end);
  }

  /** Resolves once everything queued so far has settled. */
  drain(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}

function codeOf(err: unknown): ErrorCode {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_FINETORCH_') ? (code as ErrorCode) : 'ERR_FINETORCH_NATIVE';
}
