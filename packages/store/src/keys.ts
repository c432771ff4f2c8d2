import { enumValues, type BrokerPath, type Domain } from '@tweets/domain';

/**
 * The Valkey key schema (docs/valkey.md), from the domain's definition. Every
 * key of one broker path shares the hash tag `{path}`, so one path's keys live
 * in one cluster slot and the apply script can touch them atomically, and two
 * paths never share a key. For the weather domain (prefix `wt`, groups by
 * municipality, counts by weather, sums temperature and humidity):
 *
 *   <prefix>:{<path>}:counts:<group>   hash  counted value -> reports
 *   <prefix>:{<path>}:<countBy>        hash  counted value -> reports, all groups
 *   <prefix>:{<path>}:total            string  reports on this path
 *   <prefix>:{<path>}:agg:<group>      hash  n, <sum>_sum for each summed field
 *   <prefix>:{<path>}:recent           list  newest items as JSON, capped
 *   <prefix>:{<path>}:seen:<bucket>    set of the ids applied in one slice of time, expiring whole
 *
 * The dedup window: ids are remembered in time buckets of window / slices
 * seconds each (bucket n holds the ids applied from n * width to
 * (n + 1) * width). An id is looked up in the current bucket and the `slices`
 * before it, so it is remembered at least the window, at most one bucket more;
 * each bucket expires whole once no lookup can reach it. A set member costs
 * about half of a key with its own expiry (docs/valkey.md: measured at commit 61666c1).
 */

export interface DedupWindow {
  /** Seconds an applied id is remembered at least: a retry or redelivery within it is not counted again. */
  windowSec: number;
  /** Buckets the window is cut into: more buckets keep less beyond the window, and cost a lookup each. */
  slices: number;
}

/** The width of one bucket, in seconds. */
export const bucketWidth = (w: DedupWindow) => Math.ceil(w.windowSec / w.slices);

/** The seen buckets an id applied at `nowSec` is looked up in, the current one first, and the unix second the current one expires at. */
export function seenBuckets(prefix: string, path: BrokerPath, w: DedupWindow, nowSec: number): { keys: string[]; expireAt: number } {
  const width = bucketWidth(w);
  const current = Math.floor(nowSec / width);
  const keys: string[] = [];
  for (let b = current; b >= current - w.slices; b--) keys.push(pathKey(prefix, path, 'seen', String(b)));
  // The last lookup that reaches the current bucket is made while bucket current + slices is current.
  return { keys, expireAt: (current + w.slices + 1) * width + 1 };
}

export function pathKey(prefix: string, path: BrokerPath, ...rest: string[]): string {
  return [prefix, `{${path}}`, ...rest].join(':');
}

/** The pattern of a path's seen buckets, for SCAN. */
export const seenPattern = (prefix: string, path: BrokerPath) => `${pathKey(prefix, path, 'seen')}:*`;

/** The keys of a path that hold counts (everything but the per-id dedup keys), in the apply script's KEYS order. */
export function aggregateKeys(d: Domain, prefix: string, path: BrokerPath): string[] {
  const groups = enumValues(d, d.groupBy);
  return [
    pathKey(prefix, path, d.countBy),
    pathKey(prefix, path, 'total'),
    pathKey(prefix, path, 'recent'),
    ...groups.map((g) => pathKey(prefix, path, 'counts', g)),
    ...groups.map((g) => pathKey(prefix, path, 'agg', g)),
  ];
}

/** The keys the apply script touches: the aggregate keys, then the seen buckets, the current one first. */
export function applyKeys(
  d: Domain,
  prefix: string,
  path: BrokerPath,
  w: DedupWindow,
  nowSec: number,
): { keys: string[]; expireAt: number } {
  const seen = seenBuckets(prefix, path, w, nowSec);
  return { keys: [...aggregateKeys(d, prefix, path), ...seen.keys], expireAt: seen.expireAt };
}
