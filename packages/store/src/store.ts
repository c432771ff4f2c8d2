import { readFileSync } from 'node:fs';
import { Redis } from 'iovalkey';
import { MUNICIPALITIES, tweetJson, WEATHERS, type Municipality, type Tweet, type Weather } from '@tweets/tweet';
import { applyKeys, countsKeys, PATHS, pathKey, type BrokerPath } from './keys.js';

const APPLY_LUA = readFileSync(new URL('../../src/apply.lua', import.meta.url), 'utf8');
const MUNICIPALITY_NUMBER: Record<string, number> = Object.fromEntries(MUNICIPALITIES.map((m, i) => [m, i + 1]));

export interface StoreOptions {
  /** Key prefix of the domain, `wt` for weather tweets. */
  prefix: string;
  /** How long an applied id is remembered, so a redelivery or a client retry is not counted again. */
  dedupTtlSec: number;
  /** How many recent tweets are kept per path. */
  recentCap: number;
  /** How many seconds of the per-second throughput series are kept. */
  throughputWindowSec: number;
}

export const DEFAULT_STORE_OPTIONS: StoreOptions = {
  prefix: 'wt',
  dedupTtlSec: 86_400,
  recentCap: 100,
  throughputWindowSec: 3_600,
};

/** A tweet to apply; `json`, when given, is the tweet as the broker carried it (checked), kept in `recent` without re-encoding. */
export type Applied = Tweet & { json?: string };

/** A tweet as `recent` keeps it: its JSON as the broker carried it (or as tweetJson writes it), with `at` first. */
function recentJson(t: Applied, nowMs: number): string {
  const json = t.json && t.json.startsWith('{') ? t.json : tweetJson(t);
  return `{"at":${nowMs},${json.slice(1)}`;
}

/** Writes tweets into Valkey for one broker path, each id at most once. */
export class TweetStore {
  readonly opts: StoreOptions;

  constructor(
    readonly redis: Redis,
    opts: Partial<StoreOptions> = {},
  ) {
    this.opts = { ...DEFAULT_STORE_OPTIONS, ...opts };
    redis.defineCommand('wtApply', { lua: APPLY_LUA });
  }

  /**
   * Applies a batch in one round trip: one script call that checks every id
   * and adds the batch's increments together. Resolves with 1 (applied) or 0
   * (already applied) per tweet, in order; if it rejects, nothing of the
   * batch was applied, none is acknowledged upstream, and the redelivery is
   * made safe by the per-id dedup.
   */
  async applyBatch(path: BrokerPath, tweets: readonly Applied[], nowMs = Date.now()): Promise<number[]> {
    if (tweets.length === 0) return [];
    const { prefix, recentCap, throughputWindowSec, dedupTtlSec } = this.opts;
    const keys = applyKeys(prefix, path, tweets);
    const args: (string | number)[] = [recentCap, Math.floor(nowMs / 1000), throughputWindowSec, dedupTtlSec];
    // Only the batch's newest `recentCap` tweets can stay in `recent`: the others carry no JSON (an empty
    // argument), which spares encoding, sending and parsing about 100 bytes for most tweets of a large batch.
    const firstRecent = tweets.length - recentCap;
    for (let i = 0; i < tweets.length; i++) {
      const t = tweets[i]!;
      args.push(MUNICIPALITY_NUMBER[t.municipality]!, t.weather, t.temperature, t.humidity, i < firstRecent ? '' : recentJson(t, nowMs));
    }
    const apply = (this.redis as unknown as { wtApply: (...a: unknown[]) => Promise<number[]> }).wtApply;
    const results = await apply.call(this.redis, keys.length, ...keys, ...args);
    if (!Array.isArray(results) || results.length !== tweets.length) throw new Error(`apply script answered ${JSON.stringify(results)}`);
    return results.map(Number);
  }

  async apply(path: BrokerPath, t: Tweet, nowMs = Date.now()): Promise<number> {
    const [r] = await this.applyBatch(path, [t], nowMs);
    return r!;
  }
}

export interface PathStats {
  total: number;
  counts: Record<Municipality, Record<Weather, number>>;
  byWeather: Record<Weather, number>;
  averages: Record<Municipality, { reports: number; temperature: number | null; humidity: number | null }>;
}

export interface Stats {
  paths: Record<BrokerPath, PathStats>;
}

function num(v: string | undefined): number {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function weatherCounts(h: Record<string, string>): Record<Weather, number> {
  return Object.fromEntries(WEATHERS.map((w) => [w, num(h[w])])) as Record<Weather, number>;
}

/** Reads what the dashboard shows, for both paths, in one round trip. Zeros included. */
export async function readStats(redis: Redis, prefix = DEFAULT_STORE_OPTIONS.prefix): Promise<Stats> {
  const pipe = redis.pipeline();
  for (const path of PATHS) {
    pipe.get(pathKey(prefix, path, 'total'));
    pipe.hgetall(pathKey(prefix, path, 'weather'));
    const ck = countsKeys(prefix, path);
    for (const m of MUNICIPALITIES) pipe.hgetall(ck[m]);
    for (const m of MUNICIPALITIES) pipe.hgetall(pathKey(prefix, path, 'agg', m));
  }
  const res = await pipe.exec();
  if (!res) throw new Error('valkey pipeline was discarded');
  const values = res.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
  let i = 0;
  const paths = {} as Record<BrokerPath, PathStats>;
  for (const path of PATHS) {
    const total = num(values[i++] as string | undefined);
    const byWeather = weatherCounts(values[i++] as Record<string, string>);
    const counts = {} as PathStats['counts'];
    for (const m of MUNICIPALITIES) counts[m] = weatherCounts(values[i++] as Record<string, string>);
    const averages = {} as PathStats['averages'];
    for (const m of MUNICIPALITIES) {
      const a = values[i++] as Record<string, string>;
      const n = num(a.n);
      averages[m] = {
        reports: n,
        temperature: n ? Math.round((num(a.temperature_sum) / n) * 100) / 100 : null,
        humidity: n ? Math.round((num(a.humidity_sum) / n) * 100) / 100 : null,
      };
    }
    paths[path] = { total, counts, byWeather, averages };
  }
  return { paths };
}

/** The newest tweets applied on a path, newest first. */
export async function readRecent(redis: Redis, path: BrokerPath, limit = 20, prefix = DEFAULT_STORE_OPTIONS.prefix): Promise<unknown[]> {
  const items = await redis.lrange(pathKey(prefix, path, 'recent'), 0, limit - 1);
  return items.map((s) => JSON.parse(s) as unknown);
}

/** The per-second throughput series of a path, oldest first: [unixSecond, tweets]. */
export async function readThroughput(redis: Redis, path: BrokerPath, prefix = DEFAULT_STORE_OPTIONS.prefix): Promise<[number, number][]> {
  const h = await redis.hgetall(pathKey(prefix, path, 'tput'));
  return Object.entries(h)
    .map(([s, n]) => [Number(s), Number(n)] as [number, number])
    .sort((a, b) => a[0] - b[0]);
}
