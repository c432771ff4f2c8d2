import { Counter, Histogram, LATENCY_BUCKETS, LatencyWindow, type Registry } from '@tweets/runtime';

/** What the writer records of each publish (docs/metrics.md), and keeps for its periodic log. */
export interface WriterMetrics {
  /** Items published and, per call, the time to the broker's durable ack, since the last take. */
  readonly published: { items: number; latency: LatencyWindow };
  acknowledged(items: number, ms: number): void;
  failed(): void;
}

/** `item` names the metrics (`tweet`); without a registry only the log's figures are kept. */
export function writerMetrics(broker: string, item: string, registry?: Registry): WriterMetrics {
  const m = registry && {
    items: new Counter({
      name: `writer_published_${item}s_total`,
      help: `${item}s the broker acknowledged durably`,
      labelNames: ['broker'] as const,
      registers: [registry],
    }).labels({ broker }),
    failures: new Counter({
      name: 'writer_publish_failures_total',
      help: 'Publishes the broker did not acknowledge (the caller gets UNAVAILABLE and retries the same ids)',
      labelNames: ['broker'] as const,
      registers: [registry],
    }).labels({ broker }),
    duration: new Histogram({
      name: 'writer_publish_duration_seconds',
      help: "Time from a call's tweets handed to the broker client to the broker's durable ack of all of them",
      labelNames: ['broker'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
  };
  m?.duration.zero({ broker });
  // every series from the start, at zero: a panel shows 0 rather than "No data" before the first publish
  m?.items.inc(0);
  m?.failures.inc(0);
  const published = { items: 0, latency: new LatencyWindow(4096, m?.duration.labels({ broker })) };
  return {
    published,
    acknowledged(items, ms) {
      published.items += items;
      m?.items.inc(items);
      published.latency.record(ms);
    },
    failed: () => m?.failures.inc(),
  };
}
