/**
 * Coalesces concurrent single-item calls into batches: `add` resolves with
 * the item's own result once its batch has run. A batch runs when it holds
 * `maxSize` items or `maxWaitMs` after its first item (0: on the next turn of
 * the event loop, so whatever arrived together goes together). The number of
 * items waiting is bounded by the callers: each awaits its own promise.
 */
export class Batcher<T, R> {
  #items: T[] = [];
  #waiters: { resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #inFlight = new Set<Promise<void>>();

  constructor(
    private readonly run: (items: T[]) => Promise<R[]>,
    private readonly maxSize: number,
    private readonly maxWaitMs = 0,
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#items.push(item);
      this.#waiters.push({ resolve, reject });
      if (this.#items.length >= this.maxSize) this.flush();
      else if (this.#timer === undefined) {
        this.#timer = this.maxWaitMs > 0 ? setTimeout(() => this.flush(), this.maxWaitMs) : setImmediate(() => this.flush());
      }
    });
  }

  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer as NodeJS.Timeout);
      clearImmediate(this.#timer as NodeJS.Immediate);
      this.#timer = undefined;
    }
    if (this.#items.length === 0) return;
    const items = this.#items;
    const waiters = this.#waiters;
    this.#items = [];
    this.#waiters = [];
    const p = this.run(items).then(
      (results) => {
        if (results.length !== waiters.length) throw new Error(`batch returned ${results.length} results for ${waiters.length} items`);
        waiters.forEach((w, i) => w.resolve(results[i]!));
      },
      (err: unknown) => waiters.forEach((w) => w.reject(err)),
    ).catch((err: unknown) => waiters.forEach((w) => w.reject(err)));
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  /** Runs what is queued and waits for every batch in flight. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.#inFlight]);
  }
}
