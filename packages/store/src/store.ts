import { readFileSync } from 'node:fs';
import { Redis } from 'iovalkey';
import { enumValues, jsonCodec, sumsOf, type BrokerPath, type Domain, type Item, type ItemOf } from '@tweets/domain';
import { byKey, type StatsOf } from './stats.js';
import { aggregateKeys, applyKeys, pathKey, seenPattern, type DedupWindow } from './keys.js';

let applyLua: string | undefined;
/** The apply script's source, read the first time a store is made (nothing is read on import). */
const applyScript = () => (applyLua ??= readFileSync(new URL('../../src/apply.lua', import.meta.url), 'utf8'));

export interface StoreOptions {
  /** The domain's key prefix (default: the domain's own, `wt` for weather tweets). */
  prefix: string;
  /** How long an applied id is remembered at least, so a redelivery or a client retry is not counted again (docs/valkey.md). */
  dedupWindowSec: number;
  /** The buckets the window is cut into (docs/valkey.md). */
  dedupSlices: number;
  /** How many recent items are kept per path. */
  recentCap: number;
  /**
   * Replicas that must confirm a batch (Valkey's WAIT) before it counts as applied: 0, the default, does not
   * wait (replication is asynchronous). With 1, a batch a replica has not confirmed within `waitTimeoutMs`
   * fails: the consumer acks nothing and the redelivery is a no-op for what the primary already applied.
   */
  waitReplicas: number;
  waitTimeoutMs: number;
}

/**
 * 30 minutes: far beyond every way a duplicate reaches a consumer here (a
 * client's retries of a 503, a redelivery after a consumer or broker restart,
 * a writer's retried publish: seconds to a few minutes; docs/valkey.md).
 */
export const DEFAULT_DEDUP_WINDOW_SEC = 1800;
export const DEFAULT_DEDUP_SLICES = 4;
export const DEFAULT_RECENT_CAP = 100;

/** An item to apply; `json`, when given, is the item as the broker carried it (checked), kept in `recent` without re-encoding. */
export type Applied<D extends Domain> = ItemOf<D> & { json?: string };

/** Writes a domain's items into Valkey for one broker path at a time, each id at most once per path. */
export class ItemStore<D extends Domain> {
  readonly opts: StoreOptions;
  readonly #groupNumber: Record<string, number>;
  readonly #sums: ReturnType<typeof sumsOf>;
  readonly #json: (item: Item) => string;
  readonly #window: DedupWindow;

  constructor(
    readonly domain: D,
    readonly redis: Redis,
    opts: Partial<StoreOptions> = {},
  ) {
    this.opts = {
      prefix: domain.keyPrefix,
      dedupWindowSec: DEFAULT_DEDUP_WINDOW_SEC,
      dedupSlices: DEFAULT_DEDUP_SLICES,
      recentCap: DEFAULT_RECENT_CAP,
      waitReplicas: 0,
      waitTimeoutMs: 1000,
      ...opts,
    };
    this.#window = { windowSec: this.opts.dedupWindowSec, slices: this.opts.dedupSlices };
    this.#groupNumber = Object.fromEntries(enumValues(domain, domain.groupBy).map((g, i) => [g, i + 1]));
    this.#sums = sumsOf(domain);
    this.#json = jsonCodec(domain).json;
    redis.defineCommand('itemsApply', { lua: applyScript() });
  }

  /** An item as `recent` keeps it: its JSON as the broker carried it (or as the domain writes it), with `at` first. */
  #recentJson(t: Applied<D>, nowMs: number): string {
    const json = t.json && t.json.startsWith('{') ? t.json : this.#json(t as Item);
    return `{"at":${nowMs},${json.slice(1)}`;
  }

  /**
   * Applies a batch in one round trip: one script call that checks every id
   * and adds the batch's increments together. Resolves with 1 (applied) or 0
   * (already applied) per item, in order; if it rejects, nothing of the batch
   * was applied, none is acknowledged upstream, and the redelivery is made
   * safe by the per-id dedup.
   */
  async applyBatch(path: BrokerPath, items: readonly Applied<D>[], nowMs = Date.now()): Promise<number[]> {
    if (items.length === 0) return [];
    const d = this.domain;
    const { prefix, recentCap } = this.opts;
    const nowSec = Math.floor(nowMs / 1000);
    const { keys, expireAt } = applyKeys(d, prefix, path, this.#window, nowSec);
    // Relative to the time of the batch: a bucket lives until no lookup can reach it.
    const args: (string | number)[] = [
      recentCap,
      expireAt - nowSec,
      Object.keys(this.#groupNumber).length,
      this.#sums.length,
      this.#window.slices + 1,
      ...this.#sums.map((s) => `${s.name}_sum`),
    ];
    // Only the batch's newest `recentCap` items can stay in `recent`: the others carry no JSON (an empty
    // argument), which spares encoding, sending and parsing about 100 bytes for most items of a large batch.
    const firstRecent = items.length - recentCap;
    for (let i = 0; i < items.length; i++) {
      const t = items[i]! as Applied<D> & Item;
      args.push(t.id, this.#groupNumber[t[d.groupBy] as string]!, t[d.countBy]!);
      for (const s of this.#sums) args.push(s.of(t));
      args.push(i < firstRecent ? '' : this.#recentJson(t, nowMs));
    }
    const apply = (this.redis as unknown as { itemsApply: (...a: unknown[]) => Promise<number[]> }).itemsApply;
    const results = await apply.call(this.redis, keys.length, ...keys, ...args);
    if (!Array.isArray(results) || results.length !== items.length) throw new Error(`apply script answered ${JSON.stringify(results)}`);
    const { waitReplicas, waitTimeoutMs } = this.opts;
    if (waitReplicas > 0) {
      const confirmed = Number(await this.redis.call('WAIT', waitReplicas, waitTimeoutMs));
      if (confirmed < waitReplicas)
        throw new Error(`${confirmed} of ${waitReplicas} Valkey replicas confirmed the batch within ${waitTimeoutMs} ms`);
    }
    return results.map(Number);
  }

  async apply(path: BrokerPath, t: Applied<D>, nowMs = Date.now()): Promise<number> {
    const [r] = await this.applyBatch(path, [t], nowMs);
    return r!;
  }
}

function num(v: string | undefined): number {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** Reads what the dashboard shows, for every path of the domain, in one round trip. Every group and value, zeros included. */
export async function readStats<D extends Domain>(redis: Redis, d: D, prefix: string = d.keyPrefix): Promise<StatsOf<D>> {
  const groups = enumValues(d, d.groupBy);
  const counted = enumValues(d, d.countBy);
  const sums = sumsOf(d);
  const pipe = redis.pipeline();
  for (const path of d.paths) {
    const [byCount, total, , ...rest] = aggregateKeys(d, prefix, path);
    pipe.get(total!);
    pipe.hgetall(byCount!);
    for (const k of rest) pipe.hgetall(k); // counts per group, then agg per group
  }
  const res = await pipe.exec();
  if (!res) throw new Error('valkey pipeline was discarded');
  const values = res.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
  const countsOf = (h: Record<string, string>) => Object.fromEntries(counted.map((c) => [c, num(h[c])]));
  let i = 0;
  const paths: Record<string, unknown> = {};
  for (const path of d.paths) {
    const total = num(values[i++] as string | undefined);
    const byCount = countsOf(values[i++] as Record<string, string>);
    const counts = Object.fromEntries(groups.map((g) => [g, countsOf(values[i++] as Record<string, string>)]));
    const averages: Record<string, unknown> = {};
    const totals: Record<string, unknown> = {};
    for (const g of groups) {
      const a = values[i++] as Record<string, string>;
      const n = num(a.n);
      // Sums are kept as integers (cents for revenue); shown at their scale, to two decimals.
      const shown = (s: (typeof sums)[number], x: number) => Math.round(x * s.scale * 100) / 100;
      averages[g] = { reports: n, ...Object.fromEntries(sums.map((s) => [s.name, n ? shown(s, num(a[`${s.name}_sum`]) / n) : null])) };
      totals[g] = { reports: n, ...Object.fromEntries(sums.map((s) => [s.name, shown(s, num(a[`${s.name}_sum`]))])) };
    }
    paths[path] = { total, counts, [byKey(d)]: byCount, averages, totals };
  }
  return { paths } as StatsOf<D>;
}

/** The newest items applied on a path, newest first, each with `at` (ms since the epoch) first. */
export async function readRecent(redis: Redis, d: Domain, path: BrokerPath, limit = 20, prefix = d.keyPrefix): Promise<unknown[]> {
  const items = await redis.lrange(pathKey(prefix, path, 'recent'), 0, limit - 1);
  return items.map((s) => JSON.parse(s) as unknown);
}

/** Every key that matches a pattern, by SCAN (KEYS is @dangerous, which the services' users may not run). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

/**
 * Which of `ids` a path has applied within its dedup window: 1 or 0 per id,
 * in order. Reads every seen bucket the path has (SCAN), so it holds whatever
 * the window's settings were when each id was applied.
 */
export async function appliedIds(redis: Redis, prefix: string, path: BrokerPath, ids: readonly string[]): Promise<Uint8Array> {
  const buckets = (await scanKeys(redis, seenPattern(prefix, path))).filter((k) => /:seen:\d+$/.test(k));
  const out = new Uint8Array(ids.length);
  for (let start = 0; start < ids.length; start += 5000) {
    const chunk = ids.slice(start, start + 5000);
    for (const b of buckets) {
      const hits = (await redis.call('SMISMEMBER', b, ...chunk)) as number[];
      hits.forEach((h, i) => {
        if (h === 1) out[start + i] = 1;
      });
    }
  }
  return out;
}
