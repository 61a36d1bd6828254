// Ctrl-C (SIGINT) or SIGTERM during training. In the middle of an epoch the process exits at once:
// every file in --out is from the last finished epoch, written atomically. While an epoch's files
// (checkpoint, metrics, weights, pictures) are being written, it waits for them, then exits; a
// second signal exits at once. Exit code 128 + signal number (130 for Ctrl-C), as shells expect.
import * as os from 'node:os';

export class Interrupts {
  private held = false;
  private pending: NodeJS.Signals | undefined;
  private readonly handler = (signal: NodeJS.Signals) => {
    if (this.held && !this.pending) {
      this.pending = signal;
      this.onSignal(signal, 'waiting');
    } else {
      this.exit(signal);
    }
  };

  /** `onSignal` tells the user: 'waiting' for the current writes, or 'exiting' now. */
  constructor(private readonly onSignal: (signal: NodeJS.Signals, phase: 'waiting' | 'exiting') => void) {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  /** From here until release(), a signal waits. */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    if (this.pending) this.exit(this.pending);
  }

  async around<T>(work: () => Promise<T>): Promise<T> {
    this.hold();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }

  private exit(signal: NodeJS.Signals): never {
    this.onSignal(signal, 'exiting');
    process.exit(128 + os.constants.signals[signal]);
  }
}
