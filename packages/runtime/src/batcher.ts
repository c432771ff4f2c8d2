export interface BatcherOptions {
  /** Most items in one batch. */
  maxSize: number;
  /** How long the first item of a batch may wait for others; 0: until the next turn of the event loop. */
  maxWaitMs?: number;
  /** Batches running at once; more wait, and grow meanwhile (1: one at a time, in order). */
  maxInFlight?: number;
  /** Items waiting beyond this are refused at once with an OverloadError: memory stays bounded. */
  maxPending?: number;
}

export class OverloadError extends Error {
  override name = 'OverloadError';
}

/**
 * Coalesces concurrent single-item calls into batches: `add` resolves with
 * the item's own result once its batch has run. A batch runs when it holds
 * `maxSize` items, or `maxWaitMs` after its first item, as soon as fewer than
 * `maxInFlight` batches are running.
 */
export class Batcher<T, R> {
  #items: T[] = [];
  #waiters: { resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** The oldest waiting item has waited its `maxWaitMs`: run as soon as a slot frees. */
  #due = false;
  #inFlight = new Set<Promise<void>>();
  readonly #maxSize: number;
  readonly #maxWaitMs: number;
  readonly #maxInFlight: number;
  readonly #maxPending: number;

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    opts: BatcherOptions,
  ) {
    this.#maxSize = opts.maxSize;
    this.#maxWaitMs = opts.maxWaitMs ?? 0;
    this.#maxInFlight = opts.maxInFlight ?? Number.POSITIVE_INFINITY;
    this.#maxPending = opts.maxPending ?? Number.POSITIVE_INFINITY;
  }

  /** Items waiting for a batch to start. */
  get pending(): number {
    return this.#items.length;
  }

  add(item: T): Promise<R> {
    if (this.#items.length >= this.#maxPending) {
      return Promise.reject(new OverloadError(`${this.#items.length} items already waiting`));
    }
    return new Promise<R>((resolve, reject) => {
      this.#items.push(item);
      this.#waiters.push({ resolve, reject });
      if (this.#items.length >= this.#maxSize) this.flush();
      else if (this.#timer === undefined) {
        const due = () => {
          this.#timer = undefined;
          this.#due = true;
          this.flush();
        };
        this.#timer = this.#maxWaitMs > 0 ? setTimeout(due, this.#maxWaitMs) : setImmediate(due);
      }
    });
  }

  /** Adds every item, or none if they do not all fit under `maxPending`; resolves with their results in order. */
  addAll(items: readonly T[]): Promise<R[]> {
    if (this.#items.length + items.length > this.#maxPending) {
      return Promise.reject(new OverloadError(`${this.#items.length} items already waiting`));
    }
    return Promise.all(items.map((item) => this.add(item)));
  }

  /** Runs the waiting items now if a slot is free (else as soon as one is), without waiting out `maxWaitMs`. */
  flush(): void {
    if (this.#items.length === 0) return;
    this.#due = true;
    if (this.#inFlight.size >= this.#maxInFlight) return;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = undefined;
    }
    const items = this.#items.splice(0, this.#maxSize);
    const waiters = this.#waiters.splice(0, items.length);
    // What is left over from a full batch has waited as long: it goes next.
    this.#due = this.#items.length > 0;
    const p = this.run(items)
      .then(
        (results) => {
          if (results.length !== waiters.length) throw new Error(`batch returned ${results.length} results for ${waiters.length} items`);
          waiters.forEach((w, i) => w.resolve(results[i]!));
        },
        (err: unknown) => waiters.forEach((w) => w.reject(err)),
      )
      .catch((err: unknown) => waiters.forEach((w) => w.reject(err)));
    this.#inFlight.add(p);
    void p.finally(() => {
      this.#inFlight.delete(p);
      // Items that came meanwhile keep their own wait, so batches stay large
      // under light load; a full or overdue batch goes at once.
      if (this.#items.length >= this.#maxSize || this.#due) this.flush();
    });
  }

  /** Runs what is queued and waits for every batch in flight. */
  async drain(): Promise<void> {
    this.flush();
    while (this.#inFlight.size > 0 || this.#items.length > 0) {
      await Promise.all([...this.#inFlight]);
      this.flush();
    }
  }
}
