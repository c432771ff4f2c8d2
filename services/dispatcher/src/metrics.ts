import type { BrokerPath, Domain } from '@tweets/domain';
import { Counter, Histogram, LATENCY_BUCKETS, LatencyWindow, type Registry } from '@tweets/runtime';

/** What the dispatcher records of each path's writers (docs/metrics.md). */
export interface DispatchMetrics {
  /** Per path, the time from sending to the writer's answer, for the periodic log (and the histogram when served). */
  answered: Partial<Record<BrokerPath, LatencyWindow>>;
  /** Counts `count` items sent to a path's writers as accepted (durably in the broker) or failed. */
  outcome(path: BrokerPath, accepted: boolean, count: number): void;
}

export function dispatchMetrics(domain: Domain, routes: readonly BrokerPath[], registry?: Registry): DispatchMetrics {
  const writerDuration = registry
    ? new Histogram({
        name: 'dispatcher_writer_duration_seconds',
        help: "Time from a batch sent to a path's writers to their answer that every tweet of it is durably in the broker",
        labelNames: ['path'] as const,
        buckets: LATENCY_BUCKETS,
        registers: [registry],
      })
    : undefined;
  const outcomes = registry
    ? new Counter({
        name: `dispatcher_${domain.item}s_total`,
        help: `${domain.item}s sent to each path's writers, by outcome: accepted (durably in the broker) or failed`,
        labelNames: ['path', 'outcome'] as const,
        registers: [registry],
      })
    : undefined;
  for (const path of routes) {
    // every series from the start, at zero
    writerDuration?.zero({ path });
    for (const outcome of ['accepted', 'failed']) outcomes?.inc({ path, outcome }, 0);
  }
  return {
    answered: Object.fromEntries(routes.map((p) => [p, new LatencyWindow(4096, writerDuration?.labels({ path: p }))])),
    outcome: (path, accepted, count) => outcomes?.inc({ path, outcome: accepted ? 'accepted' : 'failed' }, count),
  };
}
