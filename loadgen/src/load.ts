import { Pool } from 'undici';
import type { TweetFields } from '@tweets/tweet';
import { emptyBreakdown, randomTweet, rng, type Breakdown } from './tweets.js';

export interface LoadOptions {
  url: string;
  count: number;
  concurrency: number;
  seed?: number;
  /** Ids are `<idPrefix>-<n>`; sent as Idempotency-Key. */
  idPrefix: string;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** The whole run stops after this, whatever is left. */
  maxDurationMs?: number;
  /** Tweets to send instead of random ones (the e2e test's known multiset). */
  tweets?: readonly TweetFields[];
}

export interface LoadResult {
  sent: number;
  accepted: number;
  rejected: number;
  failed: number;
  /** Accepted tweets by (municipality, weather): what the counts must grow by. */
  accepted_breakdown: Breakdown;
  latenciesMs: number[];
  wallMs: number;
  errors: Record<string, number>;
}

/**
 * Closed loop: `concurrency` clients, each sending its next tweet when the
 * last one is answered, over keep-alive connections, until `count` are sent.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(opts.url, { connections: opts.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const next = rng(opts.seed ?? 42);
  const result: LoadResult = {
    sent: 0, accepted: 0, rejected: 0, failed: 0, accepted_breakdown: emptyBreakdown(), latenciesMs: [], wallMs: 0, errors: {},
  };
  const deadline = Date.now() + (opts.maxDurationMs ?? 600_000);
  let i = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (i < opts.count && Date.now() < deadline) {
      const n = i++;
      const tweet = opts.tweets ? opts.tweets[n]! : randomTweet(next);
      const start = performance.now();
      result.sent++;
      try {
        const res = await pool.request({
          path: '/tweets',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `${opts.idPrefix}-${n}` },
          body: JSON.stringify(tweet),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
        });
        await res.body.dump();
        result.latenciesMs.push(performance.now() - start);
        if (res.statusCode >= 200 && res.statusCode < 300) {
          result.accepted++;
          result.accepted_breakdown[tweet.municipality][tweet.weather]++;
        } else if (res.statusCode < 500) {
          result.rejected++;
          result.errors[`HTTP ${res.statusCode}`] = (result.errors[`HTTP ${res.statusCode}`] ?? 0) + 1;
        } else {
          result.failed++;
          result.errors[`HTTP ${res.statusCode}`] = (result.errors[`HTTP ${res.statusCode}`] ?? 0) + 1;
        }
      } catch (err) {
        result.failed++;
        const key = (err as { code?: string }).code ?? (err as Error).name;
        result.errors[key] = (result.errors[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  result.wallMs = performance.now() - t0;
  await pool.close();
  return result;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
