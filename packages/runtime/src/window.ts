/**
 * Durations of one kind of operation over a reporting window (say, 10 s):
 * count, p50, p99 and max in ms. Samples past `maxSamples` replace random
 * earlier ones (reservoir sampling), so memory stays bounded at any rate.
 */
export class LatencyWindow {
  #samples: number[] = [];
  #count = 0;
  #max = 0;

  /** `histogram`: each duration is also observed there, in seconds (a Prometheus histogram, docs/metrics.md). */
  constructor(
    private readonly maxSamples = 4096,
    private readonly histogram?: { observe(seconds: number): void },
  ) {}

  record(ms: number): void {
    this.histogram?.observe(ms / 1000);
    this.#count++;
    if (ms > this.#max) this.#max = ms;
    if (this.#samples.length < this.maxSamples) this.#samples.push(ms);
    else {
      const i = Math.floor(Math.random() * this.#count);
      if (i < this.maxSamples) this.#samples[i] = ms;
    }
  }

  /** The window's figures (undefined if nothing was recorded), and a new window. */
  take(): { count: number; p50Ms: number; p99Ms: number; maxMs: number } | undefined {
    const s = this.#samples.sort((a, b) => a - b);
    const count = this.#count;
    const out =
      count === 0
        ? undefined
        : {
            count,
            p50Ms: round(s[Math.min(s.length - 1, Math.floor(s.length * 0.5))]!),
            p99Ms: round(s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!),
            maxMs: round(this.#max),
          };
    this.#samples = [];
    this.#count = 0;
    this.#max = 0;
    return out;
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
