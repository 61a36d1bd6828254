// A bounded queue between one producer and one consumer: the producer waits while it is full,
// the consumer while it is empty. Closing with an error hands that error to the consumer after
// the items before it.

export class Channel<T> {
  readonly #items: T[] = [];
  #isClosed = false;
  #error: unknown;
  #wakeProducer?: () => void;
  #wakeConsumer?: () => void;

  constructor(readonly capacity: number) {}

  get closed(): boolean {
    return this.#isClosed;
  }

  /** Items waiting for the consumer. */
  get size(): number {
    return this.#items.length;
  }

  /** Waits for room, then enqueues; returns false once the consumer has cancelled. */
  async push(item: T): Promise<boolean> {
    while (this.#items.length >= this.capacity && !this.#isClosed) {
      await new Promise<void>((resolve) => (this.#wakeProducer = resolve));
    }
    if (this.#isClosed) return false;
    this.#items.push(item);
    this.#wake('consumer');
    return true;
  }

  /** The next item, or undefined once closed and drained; throws the error it was closed with. */
  async pull(): Promise<T | undefined> {
    while (this.#items.length === 0 && !this.#isClosed) {
      await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
    }
    if (this.#items.length > 0) {
      const item = this.#items.shift() as T;
      this.#wake('producer');
      return item;
    }
    if (this.#error !== undefined) {
      const error: unknown = this.#error;
      this.#error = undefined;
      throw error;
    }
    return undefined;
  }

  /** No more items (with an error to report, or none); also how the consumer cancels. */
  close(error?: unknown): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#error = error;
    this.#wake('producer');
    this.#wake('consumer');
  }

  #wake(side: 'producer' | 'consumer'): void {
    const wake = side === 'producer' ? this.#wakeProducer : this.#wakeConsumer;
    if (side === 'producer') this.#wakeProducer = undefined;
    else this.#wakeConsumer = undefined;
    wake?.();
  }
}
