import type { Item } from '@tweets/domain';
import { Counter, Histogram, LATENCY_BUCKETS, LatencyWindow, type Logger, type Registry } from '@tweets/kit';
import { grpc, type BatchResponse, type Decoded, type OneResponse } from '@tweets/wire';
import type { Publisher } from './publisher.js';

/** One stream the writer serves: batches in flight, whether its caller ended it, whether it is over. */
interface StreamState {
  call: grpc.ServerDuplexStream<Decoded<Item[]>, BatchResponse>;
  inFlight: number;
  ended: boolean;
  done: boolean;
}

export interface WriterOptions {
  publisher: Publisher;
  /** The domain's rpc names: one item (the seed's), a batch, a stream of batches. */
  rpc: { one: string; batch: string; stream: string };
  /** The seed's response message's status field (`status`, `estado`). */
  statusField: string;
  /** What one item is called, in metric names: `tweet`. */
  item: string;
  log: Logger;
  /** Where each publish is recorded: tweets published, the broker's ack time, failures (docs/metrics.md). */
  metrics?: Registry;
}

export interface Writer {
  /** The service's handlers, by rpc name, for grpc.Server#addService. */
  implementation: grpc.UntypedServiceImplementation;
  /** Items published and, per call, the time to the broker's durable ack, since the last take. */
  readonly published: { items: number; latency: LatencyWindow };
  /** Takes no new batch, answers those in flight, and ends every stream: callers open a new one elsewhere. */
  drain(): Promise<void>;
}

/**
 * The writer's gRPC handlers over a publisher. Every call is answered only
 * after the broker's durable ack of every item in it; a broker failure is
 * UNAVAILABLE (the caller may resend the same ids), invalid input is
 * INVALID_ARGUMENT (the codec checked it while decoding) and never published.
 */
export function createWriter(o: WriterOptions): Writer {
  let stopping = false;
  let inFlight = 0;
  const streams = new Set<StreamState>();
  const broker = o.publisher.broker;
  const m = o.metrics && {
    tweets: new Counter({
      name: `writer_published_${o.item}s_total`,
      help: `${o.item}s the broker acknowledged durably`,
      labelNames: ['broker'] as const,
      registers: [o.metrics],
    }).labels({ broker }),
    failures: new Counter({
      name: 'writer_publish_failures_total',
      help: 'Publishes the broker did not acknowledge (the caller gets UNAVAILABLE and retries the same ids)',
      labelNames: ['broker'] as const,
      registers: [o.metrics],
    }).labels({ broker }),
    duration: new Histogram({
      name: 'writer_publish_duration_seconds',
      help: "Time from a call's tweets handed to the broker client to the broker's durable ack of all of them",
      labelNames: ['broker'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [o.metrics],
    }),
  };
  m?.duration.zero({ broker });
  // every series from the start, at zero: a panel shows 0 rather than "No data" before the first publish
  m?.tweets.inc(0);
  m?.failures.inc(0);
  const published = { items: 0, latency: new LatencyWindow(4096, m?.duration.labels({ broker })) };

  /** Publishes; a broker failure is UNAVAILABLE (the caller may retry the same ids). Never rejects. */
  function publish(items: Item[]): Promise<{ code: grpc.status; details: string }> {
    const t0 = performance.now();
    return o.publisher.publish(items).then(
      () => {
        published.items += items.length;
        m?.tweets.inc(items.length);
        published.latency.record(performance.now() - t0);
        return { code: grpc.status.OK, details: '' };
      },
      (err: Error) => {
        m?.failures.inc();
        o.log.warn({ err: { message: err.message }, count: items.length, first: items[0]?.id }, 'publish failed');
        return { code: grpc.status.UNAVAILABLE, details: `${o.publisher.broker} publish failed: ${err.message}` };
      },
    );
  }

  /** Publishes and answers a unary call. */
  function publishAndAnswer<T>(items: Item[], cb: grpc.sendUnaryData<T>, ok: () => T): void {
    void publish(items).then((r) => (r.code === grpc.status.OK ? cb(null, ok()) : cb(r)));
  }

  /** A stream whose caller ended it, or whose writer is stopping, ends once its batches are answered. */
  function settle(s: StreamState): void {
    if (s.done || s.inFlight > 0 || !(s.ended || stopping)) return;
    s.done = true;
    streams.delete(s);
    s.call.end();
  }

  const implementation: grpc.UntypedServiceImplementation = {
    // The seed's rpc: one item. Its request is decoded and checked by the codec.
    [o.rpc.one](call: grpc.ServerUnaryCall<Decoded<Item>, OneResponse>, cb: grpc.sendUnaryData<OneResponse>) {
      const d = call.request;
      if (!d.ok) return cb({ code: grpc.status.INVALID_ARGUMENT, details: d.message });
      publishAndAnswer([d.value], cb, () => ({ [o.statusField]: 'ok', id: d.value.id }) as OneResponse);
    },
    // The batch rpc: all of the batch is published, or the call fails.
    [o.rpc.batch](call: grpc.ServerUnaryCall<Decoded<Item[]>, BatchResponse>, cb: grpc.sendUnaryData<BatchResponse>) {
      const d = call.request;
      if (!d.ok) return cb({ code: grpc.status.INVALID_ARGUMENT, details: d.message });
      publishAndAnswer(d.value, cb, () => ({ status: 'ok', count: d.value.length, seq: 0, code: 0, details: '' }));
    },
    // The batch rpc over one long-lived stream: each batch is answered when published, by its seq.
    [o.rpc.stream](call: grpc.ServerDuplexStream<Decoded<Item[]>, BatchResponse>) {
      const s: StreamState = { call, inFlight: 0, ended: false, done: false };
      streams.add(s);
      const answer = (r: Omit<BatchResponse, 'status'>) => {
        if (!s.done) call.write({ status: r.code === grpc.status.OK ? 'ok' : 'failed', ...r });
      };
      call.on('data', (d: Decoded<Item[]>) => {
        const seq = d.seq ?? 0;
        if (!d.ok) return answer({ seq, count: 0, code: grpc.status.INVALID_ARGUMENT, details: d.message });
        if (stopping) return answer({ seq, count: 0, code: grpc.status.UNAVAILABLE, details: 'the writer is stopping' });
        s.inFlight++;
        inFlight++;
        void publish(d.value).then((r) => {
          try {
            answer({ seq, count: r.code === grpc.status.OK ? d.value.length : 0, ...r });
          } finally {
            s.inFlight--;
            inFlight--;
            settle(s);
          }
        });
      });
      call.on('end', () => {
        s.ended = true;
        settle(s);
      });
      const gone = () => {
        s.done = true;
        streams.delete(s);
      };
      call.on('error', gone);
      call.on('cancelled', gone);
    },
  };

  return {
    implementation,
    published,
    async drain() {
      stopping = true;
      for (const s of [...streams]) settle(s);
      while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
      for (const s of [...streams]) settle(s);
    },
  };
}
