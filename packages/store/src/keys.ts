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
 *   <prefix>:{<path>}:seen:<id>        string, with TTL: this id was applied
 */

export function pathKey(prefix: string, path: BrokerPath, ...rest: string[]): string {
  return [prefix, `{${path}}`, ...rest].join(':');
}

export function seenKey(prefix: string, path: BrokerPath, id: string): string {
  return `${pathKey(prefix, path, 'seen')}:${id}`;
}

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

/** The keys the apply script touches for a batch: the aggregate keys, then one seen key per item. */
export function applyKeys(d: Domain, prefix: string, path: BrokerPath, items: readonly { id: string }[]): string[] {
  const keys = aggregateKeys(d, prefix, path);
  const seen = `${pathKey(prefix, path, 'seen')}:`;
  for (const t of items) keys.push(seen + t.id);
  return keys;
}
