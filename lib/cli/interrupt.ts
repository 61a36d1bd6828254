// Ctrl-C (SIGINT) or SIGTERM during a long command. The first asks the work to stop at its next
// safe point (training: after the running step, with the position saved); a second exits at once.
// Exit code 128 + signal number (130 for Ctrl-C), as shells expect.
import * as os from 'node:os';

export class Interrupts {
  #first: NodeJS.Signals | undefined;
  readonly #handler = (signal: NodeJS.Signals) => {
    if (this.#first) {
      this.#onSecond(signal);
      process.exit(128 + os.constants.signals[signal]);
    }
    this.#first = signal;
    this.#onFirst(signal);
  };

  /** `onFirst` starts the orderly stop; `onSecond` tells the user what is on disk before exiting. */
  readonly #onFirst: (signal: NodeJS.Signals) => void;
  readonly #onSecond: (signal: NodeJS.Signals) => void;

  constructor(onFirst: (signal: NodeJS.Signals) => void, onSecond: (signal: NodeJS.Signals) => void) {
    this.#onFirst = onFirst;
    this.#onSecond = onSecond;
    process.on('SIGINT', this.#handler);
    process.on('SIGTERM', this.#handler);
  }

  /** 128 + the first signal's number, once one came. */
  exitCode(): number {
    return this.#first ? 128 + os.constants.signals[this.#first] : 0;
  }

  dispose(): void {
    process.off('SIGINT', this.#handler);
    process.off('SIGTERM', this.#handler);
  }
}
