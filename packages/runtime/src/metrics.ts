import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

/**
 * Latency buckets, in seconds, for every hop: from 0.5 ms (a Valkey round trip
 * on loopback) to 10 s (a broker that stalls until a deadline).
 */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * A service's metrics registry: Node.js's and the process's own metrics
 * (CPU, resident memory, heap, event-loop lag, GC; prom-client's defaults) and
 * every metric the service adds, each with the label `service`. One per
 * service instance, passed to what records, so tests can build several apps
 * in one process. docs/metrics.md lists every metric.
 */
export function createRegistry(service: string, opts: { defaults?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.defaults ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** The Prometheus text exposition of a registry, with its content type. */
export async function exposition(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
