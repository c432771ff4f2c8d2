import { MUNICIPALITIES, WEATHERS, type Municipality, type Tweet } from '@tweets/tweet';

/**
 * The Valkey key schema (docs/valkey.md). Every key of one broker path shares
 * the hash tag `{path}`, so one path's keys live in one cluster slot and the
 * apply script can touch them atomically, and the two paths never share a key.
 *
 *   <prefix>:{<path>}:counts:<municipality>   hash  weather -> reports
 *   <prefix>:{<path>}:weather                 hash  weather -> reports, all municipalities
 *   <prefix>:{<path>}:total                   string  reports on this path
 *   <prefix>:{<path>}:agg:<municipality>      hash  n, temperature_sum, humidity_sum
 *   <prefix>:{<path>}:recent                  list  newest tweets as JSON, capped
 *   <prefix>:{<path>}:tput                    hash  unix second -> tweets applied
 *   <prefix>:{<path>}:tput:idx                zset  unix second (score) of each tput field
 *   <prefix>:{<path>}:seen:<id>               string, with TTL: this id was applied
 */

export const PATHS = ['kafka', 'rabbitmq'] as const;
export type BrokerPath = (typeof PATHS)[number];

export function isBrokerPath(v: unknown): v is BrokerPath {
  return v === 'kafka' || v === 'rabbitmq';
}

export function pathKey(prefix: string, path: BrokerPath, ...rest: string[]): string {
  return [prefix, `{${path}}`, ...rest].join(':');
}

/** The keys the apply script touches for a batch, in the script's KEYS order: 13 fixed, then one seen key per tweet. */
export function applyKeys(prefix: string, path: BrokerPath, tweets: readonly Pick<Tweet, 'id'>[]): string[] {
  const keys = [
    pathKey(prefix, path, 'weather'),
    pathKey(prefix, path, 'total'),
    pathKey(prefix, path, 'recent'),
    pathKey(prefix, path, 'tput'),
    pathKey(prefix, path, 'tput', 'idx'),
    ...MUNICIPALITIES.map((m) => pathKey(prefix, path, 'counts', m)),
    ...MUNICIPALITIES.map((m) => pathKey(prefix, path, 'agg', m)),
  ];
  const seen = `${pathKey(prefix, path, 'seen')}:`;
  for (const t of tweets) keys.push(seen + t.id);
  return keys;
}

export function countsKeys(prefix: string, path: BrokerPath): Record<Municipality, string> {
  return Object.fromEntries(MUNICIPALITIES.map((m) => [m, pathKey(prefix, path, 'counts', m)])) as Record<
    Municipality,
    string
  >;
}

export { MUNICIPALITIES, WEATHERS };
