import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatErrors, validateItem, type BrokerPath, type Domain, type ItemOf } from '@tweets/domain';
import type { ProtoCodec } from '@tweets/wire/codec';
import { createHttpServer, sendProblem, sendUnavailable } from '@tweets/http';
import { Batcher, Counter, Histogram, LATENCY_BUCKETS, LatencyWindow, type Logger, type Registry } from '@tweets/kit';
import { grpc } from '@tweets/wire';
import type { DispatcherConfig } from './config.js';
import type { WriterLink } from './writers.js';

export interface DispatcherOptions<D extends Domain> {
  cfg: Pick<DispatcherConfig, 'DISPATCH_MODE' | 'BATCH_MAX' | 'MAX_PENDING' | 'BODY_LIMIT_BYTES' | 'BATCH_BODY_LIMIT_BYTES'>;
  domain: D;
  codec: ProtoCodec<D>;
  /** The paths every item goes to, and the writer of each. */
  routes: readonly BrokerPath[];
  writers: Partial<Record<BrokerPath, WriterLink<D>>>;
  log: Logger;
  /** Served at /metrics; the writers' answer times and outcomes are recorded in it (docs/metrics.md). */
  metrics?: Registry;
}

export interface Dispatcher {
  app: FastifyInstance;
  /** Per path, the time from sending to the writer's answer, for the periodic log. */
  answered: Partial<Record<BrokerPath, LatencyWindow>>;
  /** Sends what single items wait in the batchers; call after app.close(). */
  drain(): Promise<void>;
}

/**
 * The dispatcher's HTTP face. Every request is sent to every routed writer at
 * once and answered 200 only when every writer reports a durable publish;
 * otherwise 503 naming the paths that failed (422 if a writer found the input
 * invalid). A retry with the same ids is safe: consumers apply an id once.
 */
export function buildDispatcher<D extends Domain>(o: DispatcherOptions<D>): Dispatcher {
  const { cfg, routes, log } = o;
  const writer = (path: BrokerPath): WriterLink<D> => {
    const w = o.writers[path];
    if (!w) throw new Error(`no writer for the ${path} path`);
    return w;
  };
  for (const path of routes) writer(path);
  // Single items that arrive together go to each writer in one batch call.
  const batchers = Object.fromEntries(
    routes.map((path) => [
      path,
      new Batcher<ItemOf<D>, void>(
        async (items) => {
          await writer(path).batch(items);
          return new Array<void>(items.length);
        },
        { maxSize: cfg.BATCH_MAX, maxWaitMs: 0, maxPending: cfg.MAX_PENDING },
      ),
    ]),
  ) as Partial<Record<BrokerPath, Batcher<ItemOf<D>, void>>>;
  const writerDuration = o.metrics
    ? new Histogram({
        name: 'dispatcher_writer_duration_seconds',
        help: "Time from a batch sent to a path's writers to their answer that every tweet of it is durably in the broker",
        labelNames: ['path'] as const,
        buckets: LATENCY_BUCKETS,
        registers: [o.metrics],
      })
    : undefined;
  const outcomes = o.metrics
    ? new Counter({
        name: `dispatcher_${o.domain.item}s_total`,
        help: `${o.domain.item}s sent to each path's writers, by outcome: accepted (durably in the broker) or failed`,
        labelNames: ['path', 'outcome'] as const,
        registers: [o.metrics],
      })
    : undefined;
  for (const path of routes) {
    // every series from the start, at zero
    writerDuration?.zero({ path });
    for (const outcome of ['accepted', 'failed']) outcomes?.inc({ path, outcome }, 0);
  }
  const answered = Object.fromEntries(routes.map((p) => [p, new LatencyWindow(4096, writerDuration?.labels({ path: p }))])) as Partial<
    Record<BrokerPath, LatencyWindow>
  >;
  const timed = (path: BrokerPath, p: Promise<unknown>) => {
    const t0 = performance.now();
    return p.then((v) => {
      answered[path]!.record(performance.now() - t0);
      return v;
    });
  };
  let inFlight = 0;

  const app = createHttpServer({ log, bodyLimit: cfg.BODY_LIMIT_BYTES, metrics: o.metrics });
  app.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer', bodyLimit: cfg.BATCH_BODY_LIMIT_BYTES }, (_req, body, done) =>
    done(null, body),
  );

  async function dispatch(
    req: FastifyRequest,
    reply: FastifyReply,
    count: number,
    send: (path: BrokerPath) => Promise<unknown>,
    ok: object,
  ) {
    if (inFlight + count > cfg.MAX_PENDING) {
      return sendUnavailable(reply, `${inFlight} ${o.domain.item}s are already in flight; retry with the same ids`);
    }
    inFlight += count;
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(routes.map((path) => timed(path, send(path))));
    } finally {
      inFlight -= count;
    }
    if (outcomes)
      results.forEach((r, i) => outcomes.inc({ path: routes[i]!, outcome: r.status === 'fulfilled' ? 'accepted' : 'failed' }, count));
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected'
        ? [{ path: routes[i]!, reason: (r.reason as grpc.ServiceError).details || (r.reason as Error).message || String(r.reason) }]
        : [],
    );
    if (failed.length === 0) return reply.code(200).send({ ...ok, paths: routes });
    const invalid = results.some((r) => r.status === 'rejected' && (r.reason as grpc.ServiceError).code === grpc.status.INVALID_ARGUMENT);
    if (invalid) return sendProblem(reply, 422, 'Unprocessable Content', failed.map((f) => f.reason).join('; '));
    req.log.warn({ count, failed }, 'not accepted by every broker');
    return sendUnavailable(reply, `not durably accepted by: ${failed.map((f) => `${f.path} (${f.reason})`).join(', ')}`, { failed });
  }

  /** One item, with its id, as JSON. */
  app.post(`/v1${o.domain.resource}`, async (req, reply) => {
    const v = validateItem(o.domain, req.body);
    if (!v.ok) return sendProblem(reply, 422, 'Unprocessable Content', formatErrors(v.errors), { errors: v.errors });
    const item = v.value;
    return dispatch(req, reply, 1, (path) => (cfg.DISPATCH_MODE === 'batch' ? batchers[path]!.add(item) : writer(path).one(item)), {
      id: item.id,
    });
  });

  /**
   * A batch as a protobuf batch message (the ingest API's micro-batches). It is
   * checked whole, then its bytes go to every writer unchanged (numbered, on
   * each writer's long-lived stream). 422 names each invalid item by index;
   * nothing of an invalid batch is sent.
   */
  app.post(`/v1${o.domain.resource}/batch`, async (req, reply) => {
    if (!Buffer.isBuffer(req.body)) {
      return sendProblem(reply, 415, 'Unsupported Media Type', 'content-type must be application/x-protobuf (a batch message)', {
        errors: [{ field: 'content-type', reason: 'must be application/x-protobuf' }],
      });
    }
    const body = req.body;
    const d = o.codec.decodeBatch(body, cfg.MAX_PENDING);
    if (!d.ok) return sendProblem(reply, 422, 'Unprocessable Content', d.message, { errors: d.errors });
    if (d.value.length === 0) return reply.code(200).send({ count: 0, paths: routes });
    return dispatch(req, reply, d.value.length, (path) => writer(path).stream(body), { count: d.value.length });
  });

  return {
    app,
    answered,
    async drain() {
      await Promise.all(Object.values(batchers).map((b) => b!.drain()));
    },
  };
}
