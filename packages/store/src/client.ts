import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'iovalkey';
import type { BrokerPath, Domain } from '@tweets/domain';
import type { Applied } from './store.js';

/** What applies a batch of items to a path: an ItemStore, or a fake in unit tests. */
export interface Applier<D extends Domain> {
  applyBatch(path: BrokerPath, items: readonly Applied<D>[]): Promise<number[]>;
}

/** Where Valkey is: one server, or the sentinels that know the current primary of a replicated Valkey. */
export type ValkeyWhere = { host: string; port: number } | { sentinels: { host: string; port: number }[]; primaryName: string };

export type ValkeyTarget = ValkeyWhere & {
  username: string;
  password: string;
  /** Shown in CLIENT LIST, to tell services apart. */
  name: string;
};

/**
 * One long-lived connection. Commands fail fast while it is down (no offline
 * queue, a command timeout), so callers answer 503 or retry with backoff
 * instead of piling work up in memory; it reconnects by itself.
 */
export function connectValkey(t: ValkeyTarget, onError: (err: Error) => void): Redis {
  const redis = new Redis({
    ...whereOptions(t),
    username: t.username,
    password: t.password || undefined,
    connectionName: t.name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 2000,
    connectTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    // A Valkey that is still loading its AOF answers the ready check with an
    // estimate; the client would wait that long (up to 10 s by default) before
    // checking again, though loading may end sooner. Check often instead.
    maxLoadingRetryTime: 250,
  });
  redis.on('error', onError);
  return redis;
}

/**
 * One server, or its sentinels: the client asks them for the primary at each connect, checks that the
 * server it reaches is a primary, listens for their failover announcements (and drops a connection to a
 * demoted or frozen primary when one comes), and reconnects on a READONLY answer, which a demoted
 * primary gives.
 */
function whereOptions(t: ValkeyWhere) {
  if ('host' in t) return { host: t.host, port: t.port };
  return {
    sentinels: t.sentinels,
    name: t.primaryName,
    failoverDetector: true,
    sentinelRetryStrategy: (times: number) => Math.min(times * 100, 1000),
    reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false) as 2 | false,
  };
}

/**
 * Applies a batch, retrying with backoff while Valkey is unavailable, until it
 * succeeds or `stopping()` holds (then it throws and the caller must not ack:
 * the broker redelivers, and the per-id dedup makes that safe).
 */
export async function applyUntilDone<D extends Domain>(
  store: Applier<D>,
  path: BrokerPath,
  tweets: readonly Applied<D>[],
  stopping: () => boolean,
  onRetry: (err: Error, attempt: number) => void,
): Promise<number[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.applyBatch(path, tweets);
    } catch (err) {
      if (stopping()) throw err;
      onRetry(err as Error, attempt);
      await sleep(Math.min(50 * 2 ** Math.min(attempt, 6), 2000));
    }
  }
}
