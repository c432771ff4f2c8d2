import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { type Domain, type FieldsOf } from '@tweets/domain';
import { emptyBreakdown, type BreakdownOf } from '@tweets/store/stats';
import { randomItem, rng } from './tweets.js';

export interface LoadOptions<D extends Domain> {
  domain: D;
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
  /** Items to send instead of random ones (the e2e test's known multiset). */
  tweets?: readonly FieldsOf<D>[];
  /** Tweets per second to start, at most; unset: as fast as the clients go. */
  rate?: number;
  /**
   * Retry a tweet that got a 5xx or no answer, with the same Idempotency-Key,
   * backing off up to 1 s, until accepted or `maxTotalMs` after its first try.
   * 4xx answers are final.
   */
  retry?: { maxTotalMs: number };
  /** Updated as the run goes, for a watcher: accepted so far and when the last 2xx came. */
  progress?: { sent: number; accepted: number; lastAcceptedAt: number };
  /**
   * Checked before each new tweet: once it holds, no new tweet starts (those
   * under way finish). With it, `count` is the most the run sends.
   */
  stop?: () => boolean;
}

export interface LoadResult<D extends Domain = Domain> {
  sent: number;
  accepted: number;
  rejected: number;
  failed: number;
  /** Accepted items by (group, counted value): what the counts must grow by. */
  accepted_breakdown: BreakdownOf<D>;
  latenciesMs: number[];
  wallMs: number;
  errors: Record<string, number>;
  /** Requests made, retries included. */
  attempts: number;
  /** Tweets accepted only after a retry. */
  retried: number;
  /** When (ms since the start) each non-2xx answer or failed request happened. */
  errorTimesMs: number[];
}

/**
 * Closed loop: `concurrency` clients, each sending its next tweet when the
 * last one is answered, over keep-alive connections, until `count` are sent.
 */
export async function runLoad<D extends Domain>(opts: LoadOptions<D>): Promise<LoadResult<D>> {
  const pool = new Pool(opts.url, { connections: opts.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const run: Run<D> = { opts, pool, result: emptyResult(opts.domain), t0: performance.now() };
  const next = rng(opts.seed ?? 42);
  const deadline = Date.now() + (opts.maxDurationMs ?? 600_000);
  let i = 0;
  const worker = async () => {
    while (i < opts.count && Date.now() < deadline && !opts.stop?.()) {
      const n = i++;
      if (opts.rate) await sleepUntil(run.t0 + (n / opts.rate) * 1000);
      run.result.sent++;
      if (opts.progress) opts.progress.sent = run.result.sent;
      await deliver(run, opts.tweets ? opts.tweets[n]! : randomItem(opts.domain, next), `${opts.idPrefix}-${n}`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  run.result.wallMs = performance.now() - run.t0;
  await pool.close();
  return run.result;
}

/** A load run as its requests share it: the options, the connection pool, the result so far, its start. */
interface Run<D extends Domain> {
  opts: LoadOptions<D>;
  pool: Pool;
  result: LoadResult<D>;
  t0: number;
}

function emptyResult<D extends Domain>(d: D): LoadResult<D> {
  const zero = { sent: 0, accepted: 0, rejected: 0, failed: 0, wallMs: 0, attempts: 0, retried: 0 };
  return { ...zero, accepted_breakdown: emptyBreakdown(d), latenciesMs: [], errors: {}, errorTimesMs: [] };
}

async function sleepUntil(due: number): Promise<void> {
  const wait = due - performance.now();
  if (wait > 1) await sleep(wait);
}

/**
 * One tweet, sent until it is accepted (2xx), rejected (4xx: final) or given up (a 5xx or no answer,
 * retried with the same key and a backoff while the retry budget lasts), and counted as such.
 */
async function deliver<D extends Domain>(run: Run<D>, tweet: FieldsOf<D>, key: string): Promise<void> {
  const { opts, result } = run;
  const first = performance.now();
  for (let tries = 1; ; tries++) {
    const { outcome, retryAfterMs } = await attempt(run, tweet, key);
    if (outcome === 'ok') return accepted(run, tweet, tries);
    if (outcome === 'final') {
      result.rejected++;
      return;
    }
    const backoff = Math.min(1000, Math.max(retryAfterMs > 0 ? 100 : 0, 50 * 2 ** Math.min(tries - 1, 5)));
    if (!opts.retry || performance.now() - first + backoff > opts.retry.maxTotalMs) {
      result.failed++;
      return;
    }
    await sleep(backoff);
  }
}

function accepted<D extends Domain>({ opts, result }: Run<D>, tweet: FieldsOf<D>, tries: number): void {
  const d = opts.domain;
  result.accepted++;
  if (opts.progress) {
    opts.progress.accepted = result.accepted;
    opts.progress.lastAcceptedAt = Date.now();
  }
  if (tries > 1) result.retried++;
  const t = tweet as Record<string, string>;
  (result.accepted_breakdown as Record<string, Record<string, number>>)[t[d.groupBy]!]![t[d.countBy]!]!++;
}

/** One request: 'ok' (2xx), 'final' (4xx) or 'retry' (5xx, no answer), with Retry-After if any. */
async function attempt<D extends Domain>(
  { opts, pool, result, t0 }: Run<D>,
  tweet: FieldsOf<D>,
  key: string,
): Promise<{ outcome: 'ok' | 'final' | 'retry'; retryAfterMs: number }> {
  const fail = (what: string) => {
    result.errors[what] = (result.errors[what] ?? 0) + 1;
    result.errorTimesMs.push(performance.now() - t0);
  };
  result.attempts++;
  const start = performance.now();
  try {
    const res = await pool.request({
      path: opts.domain.resource,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(tweet),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
    await res.body.dump();
    result.latenciesMs.push(performance.now() - start);
    if (res.statusCode >= 200 && res.statusCode < 300) return { outcome: 'ok', retryAfterMs: 0 };
    fail(`HTTP ${res.statusCode}`);
    const ra = Number(res.headers['retry-after']);
    return { outcome: res.statusCode < 500 ? 'final' : 'retry', retryAfterMs: Number.isFinite(ra) ? ra * 1000 : 0 };
  } catch (err) {
    fail((err as { code?: string }).code ?? (err as Error).name);
    return { outcome: 'retry', retryAfterMs: 0 };
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
