/**
 * Collects items and hands them to `write` in batches: at once when `max` are waiting (as
 * `sizeOf` counts them, one each by default), else `delayMs` after the first of the batch
 * arrived, or on `flush()`. Its timer does not keep the process alive.
 */
export class TimedBatch<T> {
  #items: T[] = [];
  #size = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly options: {
      delayMs: number;
      max: number;
      write: (items: T[]) => void;
      sizeOf?: (item: T) => number;
    },
  ) {}

  add(item: T): void {
    this.#items.push(item);
    this.#size += this.options.sizeOf?.(item) ?? 1;
    if (this.#size >= this.options.max) this.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), this.options.delayMs);
      this.#timer.unref?.();
    }
  }

  /** Hands over the waiting batch now, if any. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.#size = 0;
    this.options.write(items);
  }
}
