import { formatErrors, jsonCodec, type BrokerPath, type Domain } from '@tweets/domain';
import {
  closeServer,
  Counter,
  createRegistry,
  Gauge,
  Histogram,
  LATENCY_BUCKETS,
  runService,
  startHealthServer,
  type Logger,
  type Registry,
} from '@tweets/runtime';
import { applyUntilDone, connectFromConfig, ItemStore, type Applied, type Applier, type ValkeyConfig } from '@tweets/store';

/** One message a broker delivered: its bytes and properties, and the adapter's own handle on it (`ref`). */
export interface Delivery<R = unknown> {
  body: Buffer;
  /** The message's content type, where the broker carries one (RabbitMQ). */
  contentType?: string;
  messageId?: string;
  ref: R;
}

/** Something that goes to the dead-letter queue or topic instead of being applied: a whole message, or one item of a batch message. */
export interface Poison<R = unknown> {
  body: Buffer;
  messageId?: string;
  reason: string;
  /** The delivery that held it. */
  delivery: Delivery<R>;
}

export interface ConsumerCoreOptions<D extends Domain, R> extends AdapterContext<D> {
  path: BrokerPath;
  /** Most items applied to Valkey in one round trip. */
  batchMax: number;
  /** Puts poison in the dead-letter queue or topic, durably (resolves once the broker confirmed it). */
  deadLetter: (poison: Poison<R>[]) => Promise<void>;
  /** Once it holds, a Valkey outage is not retried any more: `handle` rejects and nothing is acked. */
  stopping: () => boolean;
}

export interface ConsumerCounts {
  applied: number;
  duplicates: number;
  deadLettered: number;
}

/** Whether Valkey takes the consumer's writes: while it refuses them (down, or full: maxmemory with noeviction), nothing is acked and the lag grows. */
export interface StoreHealth {
  /** The last write failed and is being retried. */
  failing: boolean;
  /** Why, as Valkey said it (`OOM command not allowed ...` when it is full). */
  lastError: string;
}

export interface ConsumerCore<R> {
  /**
   * Decodes a batch of deliveries, dead-letters the poison in it and applies
   * the rest to Valkey, each item at most once. When it resolves, every
   * delivery of the batch is safe to ack or commit: its items are counted (or
   * were already) and its poison is in the dead-letter queue. When it rejects
   * (the consumer is stopping while Valkey is down, or the dead-letter queue
   * failed), nothing of the batch may be acked: the broker redelivers, and the
   * per-id dedup makes that harmless.
   */
  handle(batch: readonly Delivery<R>[]): Promise<void>;
  readonly counts: ConsumerCounts;
  readonly store: StoreHealth;
}

/**
 * The logic both consumers share. A delivery holds one item (its JSON) or a
 * batch (a JSON array, with the domain's batch content type, or an array
 * without a content type from another publisher). In a batch message each
 * item is checked alone: an invalid one is poison by itself (message id
 * `<batch id>#<index>`), the others are applied.
 */
export function createConsumerCore<D extends Domain, R>(o: ConsumerCoreOptions<D, R>): ConsumerCore<R> {
  const codec = jsonCodec(o.domain);
  const { contentType, batchContentType } = o.domain.broker;
  const counts: ConsumerCounts = { applied: 0, duplicates: 0, deadLettered: 0 };
  const store: StoreHealth = { failing: false, lastError: '' };
  const applyDuration = o.metrics ? consumerMetrics(o.metrics, o.domain.item, o.path, counts, store) : undefined;

  async function handle(batch: readonly Delivery<R>[]): Promise<void> {
    const items: Applied<D>[] = [];
    const poison: Poison<R>[] = [];
    for (const m of batch) {
      const json = m.body.toString('utf8');
      if (m.contentType === batchContentType || (m.contentType !== contentType && json.trimStart().startsWith('['))) {
        const d = codec.decodeBatch(json);
        if (!d.ok) {
          poison.push({ body: m.body, messageId: m.messageId, reason: formatErrors(d.errors), delivery: m });
          continue;
        }
        for (const t of d.value.items) items.push(t as Applied<D>);
        for (const bad of d.value.invalid) {
          const reason = `${o.domain.item} ${bad.index} of a batch: ${formatErrors(bad.errors)}`;
          poison.push({ body: Buffer.from(bad.json), messageId: `${m.messageId ?? ''}#${bad.index}`, reason, delivery: m });
        }
        continue;
      }
      const d = codec.decode(json);
      if (d.ok) items.push({ ...d.value, json } as Applied<D>);
      else poison.push({ body: m.body, messageId: m.messageId, reason: formatErrors(d.errors), delivery: m });
    }
    if (poison.length > 0) {
      await o.deadLetter(poison);
      counts.deadLettered += poison.length;
      for (const p of poison) o.log.error({ messageId: p.messageId, reason: p.reason }, 'poison message dead-lettered');
    }
    for (let i = 0; i < items.length; i += o.batchMax) {
      const t0 = performance.now();
      const results = await applyUntilDone(o.store, o.path, items.slice(i, i + o.batchMax), o.stopping, (err, attempt) => {
        store.failing = true;
        store.lastError = err.message;
        o.log.warn({ err: { message: err.message }, attempt }, 'valkey write failed; retrying, nothing acked meanwhile');
      });
      if (store.failing) o.log.info('valkey takes writes again');
      store.failing = false;
      applyDuration?.observe((performance.now() - t0) / 1000);
      for (const r of results) {
        if (r === 1) counts.applied++;
        else counts.duplicates++;
      }
    }
  }

  return { handle, counts, store };
}

/**
 * The consumer's metrics: its counts, read at each scrape (nothing on the hot
 * path), whether Valkey refuses its writes, and the time each apply took.
 */
function consumerMetrics(registry: Registry, item: string, path: BrokerPath, counts: ConsumerCounts, store: StoreHealth) {
  new Counter({
    name: `consumer_${item}s_total`,
    help: `${item}s taken from the broker, by outcome: applied (counted), duplicate (already counted: a redelivery or retry), dead_lettered (malformed)`,
    labelNames: ['path', 'outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.inc({ path, outcome: 'applied' }, counts.applied);
      this.inc({ path, outcome: 'duplicate' }, counts.duplicates);
      this.inc({ path, outcome: 'dead_lettered' }, counts.deadLettered);
    },
  });
  new Gauge({
    name: 'consumer_store_failing',
    help: "1 while Valkey refuses the consumer's writes (down, or full) and nothing is acked",
    labelNames: ['path'] as const,
    registers: [registry],
    collect() {
      this.set({ path }, store.failing ? 1 : 0);
    },
  });
  const h = new Histogram({
    name: 'consumer_apply_duration_seconds',
    help: 'Time to apply one batch to Valkey (dedup and counts in one script), retries included',
    labelNames: ['path'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  h.zero({ path });
  return h.labels({ path });
}

/** What a broker adapter gets from its service: the domain, the store it applies to, the logger and the metrics. */
export interface AdapterContext<D extends Domain> {
  domain: D;
  store: Applier<D>;
  log: Logger;
  /** Where the core records what it applied (docs/metrics.md); none in tests that do not look. */
  metrics?: Registry;
}

/** A broker adapter, running: its core's counts, whether it is connected, and its graceful stop. */
export interface RunningConsumer {
  readonly counts: ConsumerCounts;
  readonly store: StoreHealth;
  /** Connected to its broker. */
  ready(): boolean;
  /** Takes nothing new, applies and acks or commits what was delivered, and closes. */
  stop(): Promise<void>;
}

/**
 * A consumer service's whole main: config from env, one Valkey connection and
 * the domain's store, the broker adapter, /livez and /readyz on the health
 * port, progress in the log every 10 s, and a graceful stop on SIGTERM.
 */
export async function runConsumerService<
  D extends Domain,
  C extends ValkeyConfig & {
    HEALTH_HOST: string;
    HEALTH_PORT: number;
    DEDUP_WINDOW_SEC: number;
    DEDUP_SLICES: number;
    VALKEY_WAIT_REPLICAS: number;
    VALKEY_WAIT_TIMEOUT_MS: number;
  },
>(o: {
  name: string;
  domain: D;
  secrets: string[];
  readConfig: () => C;
  start: (cfg: C, ctx: AdapterContext<D>) => Promise<RunningConsumer>;
}): Promise<void> {
  await runService({
    name: o.name,
    secrets: o.secrets,
    async start(log) {
      const cfg = o.readConfig();
      const valkey = connectFromConfig(cfg, o.name, log);
      const store = new ItemStore(o.domain, valkey, {
        prefix: cfg.VALKEY_PREFIX,
        dedupWindowSec: cfg.DEDUP_WINDOW_SEC,
        dedupSlices: cfg.DEDUP_SLICES,
        waitReplicas: cfg.VALKEY_WAIT_REPLICAS,
        waitTimeoutMs: cfg.VALKEY_WAIT_TIMEOUT_MS,
      });
      const metrics = createRegistry(o.name);
      const consumer = await o.start(cfg, { domain: o.domain, store, log, metrics });
      // Not ready while its broker is away, Valkey is down, or Valkey refuses its writes (full): the
      // pipeline's health shows a consumer that acks nothing and lets its lag grow.
      const health = await startHealthServer(
        cfg.HEALTH_HOST,
        cfg.HEALTH_PORT,
        () => consumer.ready() && valkey.status === 'ready' && !consumer.store.failing,
        metrics,
      );
      const statsTimer = setInterval(() => log.info(consumer.counts, 'progress'), 10_000);
      statsTimer.unref();
      return {
        async stop() {
          clearInterval(statsTimer);
          await consumer.stop();
          valkey.disconnect();
          await closeServer(health);
          log.info(consumer.counts, 'final counts');
        },
      };
    },
  });
}
