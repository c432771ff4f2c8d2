import type { BrokerPath } from '@tweets/domain';
import { grpc } from '@tweets/wire';
import type { DispatchMetrics } from './metrics.js';

/** How sending to every routed path ended. */
export type FanOutResult =
  | { kind: 'accepted' }
  /** Too many items in flight already: nothing was sent. */
  | { kind: 'busy'; inFlight: number }
  /** A writer found the input invalid. */
  | { kind: 'invalid'; reasons: string[] }
  /** Some paths did not report a durable publish. */
  | { kind: 'failed'; failed: { path: BrokerPath; reason: string }[] };

const reasonOf = (err: unknown) => (err as grpc.ServiceError).details || (err as Error).message || String(err);

/**
 * Sends each request's items to every routed path at once, bounded by `maxPending` items in flight; accepted
 * only when every path reports a durable publish. A retry with the same ids is safe: consumers apply an id once.
 */
export function createFanOut(routes: readonly BrokerPath[], maxPending: number, metrics: DispatchMetrics) {
  let inFlight = 0;
  const timed = async (path: BrokerPath, p: Promise<unknown>) => {
    const t0 = performance.now();
    await p;
    metrics.answered[path]!.record(performance.now() - t0);
  };
  return async function send(count: number, sendTo: (path: BrokerPath) => Promise<unknown>): Promise<FanOutResult> {
    if (inFlight + count > maxPending) return { kind: 'busy', inFlight };
    inFlight += count;
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(routes.map((path) => timed(path, sendTo(path))));
    } finally {
      inFlight -= count;
    }
    results.forEach((r, i) => metrics.outcome(routes[i]!, r.status === 'fulfilled', count));
    const rejected = results.flatMap((r, i) => (r.status === 'rejected' ? [{ path: routes[i]!, err: r.reason as unknown }] : []));
    if (rejected.length === 0) return { kind: 'accepted' };
    const failed = rejected.map(({ path, err }) => ({ path, reason: reasonOf(err) }));
    if (rejected.some(({ err }) => (err as grpc.ServiceError).code === grpc.status.INVALID_ARGUMENT))
      return { kind: 'invalid', reasons: failed.map((f) => f.reason) };
    return { kind: 'failed', failed };
  };
}
