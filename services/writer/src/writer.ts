import type { Item } from '@tweets/domain';
import type { LatencyWindow, Logger, Registry } from '@tweets/runtime';
import { grpc, type BatchResponse, type Decoded, type OneResponse } from '@tweets/wire';
import { writerMetrics, type WriterMetrics } from './metrics.js';
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

/** A call's outcome: OK once the broker holds every item durably, else UNAVAILABLE (the caller may retry the same ids). */
type Outcome = { code: grpc.status; details: string };

/** Publishes a call's items and records the outcome. Never rejects. */
async function publish(o: WriterOptions, m: WriterMetrics, items: Item[]): Promise<Outcome> {
  const t0 = performance.now();
  try {
    await o.publisher.publish(items);
    m.acknowledged(items.length, performance.now() - t0);
    return { code: grpc.status.OK, details: '' };
  } catch (err) {
    m.failed();
    const message = (err as Error).message;
    o.log.warn({ err: { message }, count: items.length, first: items[0]?.id }, 'publish failed');
    return { code: grpc.status.UNAVAILABLE, details: `${o.publisher.broker} publish failed: ${message}` };
  }
}

/** The streams a writer serves and the batches in flight on them; `stopping` once it drains. */
interface Streams {
  open: Set<StreamState>;
  inFlight: number;
  stopping: boolean;
}

/** A stream whose caller ended it, or whose writer is stopping, ends once its batches are answered. */
function settle(all: Streams, s: StreamState): void {
  if (s.done || s.inFlight > 0 || !(s.ended || all.stopping)) return;
  s.done = true;
  all.open.delete(s);
  s.call.end();
}

/** Serves one long-lived stream of batches: each answered by its seq when published. */
function serveStream(all: Streams, send: (items: Item[]) => Promise<Outcome>, call: StreamState['call']): void {
  const s: StreamState = { call, inFlight: 0, ended: false, done: false };
  all.open.add(s);
  const answer = (r: Omit<BatchResponse, 'status'>) => {
    if (!s.done) call.write({ status: r.code === grpc.status.OK ? 'ok' : 'failed', ...r });
  };
  call.on('data', (d: Decoded<Item[]>) => {
    const seq = d.seq ?? 0;
    if (!d.ok) return answer({ seq, count: 0, code: grpc.status.INVALID_ARGUMENT, details: d.message });
    if (all.stopping) return answer({ seq, count: 0, code: grpc.status.UNAVAILABLE, details: 'the writer is stopping' });
    s.inFlight++;
    all.inFlight++;
    void send(d.value).then((r) => {
      try {
        answer({ seq, count: r.code === grpc.status.OK ? d.value.length : 0, ...r });
      } finally {
        s.inFlight--;
        all.inFlight--;
        settle(all, s);
      }
    });
  });
  call.on('end', () => {
    s.ended = true;
    settle(all, s);
  });
  const gone = () => {
    s.done = true;
    all.open.delete(s);
  };
  call.on('error', gone);
  call.on('cancelled', gone);
}

/**
 * The writer's gRPC handlers over a publisher. Every call is answered only
 * after the broker's durable ack of every item in it; a broker failure is
 * UNAVAILABLE (the caller may resend the same ids), invalid input is
 * INVALID_ARGUMENT (the codec checked it while decoding) and never published.
 */
export function createWriter(o: WriterOptions): Writer {
  const m = writerMetrics(o.publisher.broker, o.item, o.metrics);
  const send = (items: Item[]) => publish(o, m, items);
  const all: Streams = { open: new Set(), inFlight: 0, stopping: false };
  /** Publishes and answers a unary call. */
  const unary = <T>(items: Item[], cb: grpc.sendUnaryData<T>, ok: () => T) =>
    void send(items).then((r) => (r.code === grpc.status.OK ? cb(null, ok()) : cb(r)));
  const implementation: grpc.UntypedServiceImplementation = {
    // The seed's rpc: one item. Its request is decoded and checked by the codec.
    [o.rpc.one](call: grpc.ServerUnaryCall<Decoded<Item>, OneResponse>, cb: grpc.sendUnaryData<OneResponse>) {
      const d = call.request;
      if (!d.ok) return cb({ code: grpc.status.INVALID_ARGUMENT, details: d.message });
      unary([d.value], cb, () => ({ [o.statusField]: 'ok', id: d.value.id }) as OneResponse);
    },
    // The batch rpc: all of the batch is published, or the call fails.
    [o.rpc.batch](call: grpc.ServerUnaryCall<Decoded<Item[]>, BatchResponse>, cb: grpc.sendUnaryData<BatchResponse>) {
      const d = call.request;
      if (!d.ok) return cb({ code: grpc.status.INVALID_ARGUMENT, details: d.message });
      unary(d.value, cb, () => ({ status: 'ok', count: d.value.length, seq: 0, code: 0, details: '' }));
    },
    // The batch rpc over one long-lived stream: each batch is answered when published, by its seq.
    [o.rpc.stream]: (call: StreamState['call']) => serveStream(all, send, call),
  };
  return {
    implementation,
    published: m.published,
    async drain() {
      all.stopping = true;
      for (const s of [...all.open]) settle(all, s);
      while (all.inFlight > 0) await new Promise((r) => setTimeout(r, 20));
      for (const s of [...all.open]) settle(all, s);
    },
  };
}
