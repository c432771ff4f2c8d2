import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatErrors, validateItem, type BrokerPath, type Domain, type ItemOf } from '@tweets/domain';
import type { ProtoCodec } from '@tweets/wire/codec';
import { createHttpServer, sendProblem, sendUnavailable } from '@tweets/http';
import { Batcher, type LatencyWindow, type Logger, type Registry } from '@tweets/runtime';
import type { DispatcherConfig } from './config.js';
import { createFanOut, type FanOutResult } from './fanout.js';
import { dispatchMetrics } from './metrics.js';
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

/** Each path's writer; every routed path must have one. */
function writersOf<D extends Domain>(o: DispatcherOptions<D>): (path: BrokerPath) => WriterLink<D> {
  const writer = (path: BrokerPath): WriterLink<D> => {
    const w = o.writers[path];
    if (!w) throw new Error(`no writer for the ${path} path`);
    return w;
  };
  for (const path of o.routes) writer(path);
  return writer;
}

/** Single items that arrive together go to each writer in one batch call. */
function batchersOf<D extends Domain>(o: DispatcherOptions<D>, writer: (path: BrokerPath) => WriterLink<D>) {
  const batcher = (path: BrokerPath) =>
    new Batcher<ItemOf<D>, void>(
      async (items) => {
        await writer(path).batch(items);
        return new Array<void>(items.length);
      },
      { maxSize: o.cfg.BATCH_MAX, maxWaitMs: 0, maxPending: o.cfg.MAX_PENDING },
    );
  return Object.fromEntries(o.routes.map((path) => [path, batcher(path)])) as Partial<Record<BrokerPath, Batcher<ItemOf<D>, void>>>;
}

/** The HTTP answer to a fan-out: 200 when every path holds the items, 422 if a writer found them invalid, else 503. */
function answer(req: FastifyRequest, reply: FastifyReply, r: FanOutResult, count: number, ok: object, itemName: string) {
  switch (r.kind) {
    case 'accepted':
      return reply.code(200).send(ok);
    case 'busy':
      return sendUnavailable(reply, `${r.inFlight} ${itemName}s are already in flight; retry with the same ids`);
    case 'invalid':
      return sendProblem(reply, 422, 'Unprocessable Content', r.reasons.join('; '));
    case 'failed':
      req.log.warn({ count, failed: r.failed }, 'not accepted by every broker');
      return sendUnavailable(reply, `not durably accepted by: ${r.failed.map((f) => `${f.path} (${f.reason})`).join(', ')}`, {
        failed: r.failed,
      });
  }
}

/**
 * The dispatcher's HTTP face. Every request is sent to every routed writer at
 * once and answered 200 only when every writer reports a durable publish;
 * otherwise 503 naming the paths that failed (422 if a writer found the input
 * invalid). A retry with the same ids is safe: consumers apply an id once.
 */
export function buildDispatcher<D extends Domain>(o: DispatcherOptions<D>): Dispatcher {
  const { cfg, routes, domain } = o;
  const writer = writersOf(o);
  const batchers = batchersOf(o, writer);
  const metrics = dispatchMetrics(domain, routes, o.metrics);
  const fanOut = createFanOut(routes, cfg.MAX_PENDING, metrics);
  const app = createHttpServer({ log: o.log, bodyLimit: cfg.BODY_LIMIT_BYTES, metrics: o.metrics });
  app.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer', bodyLimit: cfg.BATCH_BODY_LIMIT_BYTES }, (_req, body, done) =>
    done(null, body),
  );

  /** One item, with its id, as JSON. */
  app.post(`/v1${domain.resource}`, async (req, reply) => {
    const v = validateItem(domain, req.body);
    if (!v.ok) return sendProblem(reply, 422, 'Unprocessable Content', formatErrors(v.errors), { errors: v.errors });
    const item = v.value;
    const r = await fanOut(1, (path) => (cfg.DISPATCH_MODE === 'batch' ? batchers[path]!.add(item) : writer(path).one(item)));
    return answer(req, reply, r, 1, { id: item.id, paths: routes }, domain.item);
  });

  /**
   * A batch as a protobuf batch message (the ingest API's micro-batches). It is
   * checked whole, then its bytes go to every writer unchanged (numbered, on
   * each writer's long-lived stream). 422 names each invalid item by index;
   * nothing of an invalid batch is sent.
   */
  app.post(`/v1${domain.resource}/batch`, async (req, reply) => {
    if (!Buffer.isBuffer(req.body)) {
      return sendProblem(reply, 415, 'Unsupported Media Type', 'content-type must be application/x-protobuf (a batch message)', {
        errors: [{ field: 'content-type', reason: 'must be application/x-protobuf' }],
      });
    }
    const body = req.body;
    const d = o.codec.decodeBatch(body, cfg.MAX_PENDING);
    if (!d.ok) return sendProblem(reply, 422, 'Unprocessable Content', d.message, { errors: d.errors });
    const count = d.value.length;
    if (count === 0) return reply.code(200).send({ count: 0, paths: routes });
    const r = await fanOut(count, (path) => writer(path).stream(body));
    return answer(req, reply, r, count, { count, paths: routes }, domain.item);
  });

  return {
    app,
    answered: metrics.answered,
    async drain() {
      await Promise.all(Object.values(batchers).map((b) => b!.drain()));
    },
  };
}
