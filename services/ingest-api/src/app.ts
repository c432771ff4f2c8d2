import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  breakdownRows,
  formatErrors,
  isGroup,
  summaryRows,
  totalsRows,
  validateFields,
  validateId,
  type BrokerPath,
  type Domain,
  type Item,
  type StatsOf,
} from '@tweets/domain';
import { createHttpServer, sendProblem, sendUnavailable } from '@tweets/http';
import { Counter, type Logger, type Registry } from '@tweets/kit';
import type { ApiConfig } from './config.js';
import type { Forwarder } from './forward.js';

export interface ApiOptions {
  cfg: Pick<ApiConfig, 'BODY_LIMIT_BYTES' | 'MAX_IN_FLIGHT'>;
  domain: Domain;
  forwarder: Pick<Forwarder, 'forward'>;
  /** The counts, as GET /stats answers them (read from Valkey). */
  stats(): Promise<unknown>;
  /** The newest items applied on a path, newest first. */
  recent(path: BrokerPath, limit: number): Promise<unknown[]>;
  log: Logger;
  /** A new item's id when the client sends no Idempotency-Key. */
  makeId?: () => string;
  /** Served at /metrics, with every request's duration and each tweet's outcome (docs/metrics.md). */
  metrics?: Registry;
}

export const RECENT_MAX = 100;

/**
 * The public REST API. POST /tweets answers 202 once the dispatcher reports
 * the item durably in every broker it is routed to, 503 (retry with the same
 * Idempotency-Key) when it may not be, and a 4xx problem naming each bad field
 * otherwise: bad input never reaches a broker. GET /stats and GET /recent read
 * Valkey with a read-only user.
 */
export function buildApi(o: ApiOptions): FastifyInstance {
  const { cfg, domain } = o;
  const makeId = o.makeId ?? randomUUID;
  const app = createHttpServer({ log: o.log, bodyLimit: cfg.BODY_LIMIT_BYTES, metrics: o.metrics });
  let inFlight = 0;
  const received = o.metrics
    ? new Counter({
        name: `${domain.item}s_received_total`,
        help: `${domain.item}s POSTed to ${domain.resource}, by outcome: accepted (202: durably in every routed broker), rejected (4xx: bad input, never sent on), unavailable (503: retry with the same Idempotency-Key)`,
        labelNames: ['outcome'] as const,
        registers: [o.metrics],
      })
    : undefined;
  const [accepted, rejected, unavailable] = (['accepted', 'rejected', 'unavailable'] as const).map((outcome) =>
    received?.labels({ outcome }),
  );
  for (const c of [accepted, rejected, unavailable]) c?.inc(0); // every series from the start, at zero
  // Every answer to POST <resource> is counted once by its status: 2xx accepted, 503 unavailable, other 4xx rejected.
  if (received) {
    app.addHook('onResponse', (req, reply, done) => {
      if (req.routeOptions.url === domain.resource && req.method === 'POST') {
        const c = reply.statusCode;
        (c < 300 ? accepted : c === 503 ? unavailable : rejected)!.inc();
      }
      done();
    });
  }

  app.post(domain.resource, async (req, reply) => {
    const ct = req.headers['content-type'] ?? '';
    if (!/^application\/json\s*(;|$)/i.test(ct)) {
      const reason = `must be application/json; got ${JSON.stringify(ct)}`;
      return sendProblem(reply, 415, 'Unsupported Media Type', `content-type ${reason}`, { errors: [{ field: 'content-type', reason }] });
    }
    const key = req.headers['idempotency-key'];
    if (key !== undefined) {
      const k = validateId(key, 'Idempotency-Key');
      if (!k.ok) return sendProblem(reply, 400, 'Bad Request', formatErrors(k.errors), { errors: k.errors });
    }
    // Enum numbers too, as the proto3 JSON mapping writes them (Locust files made from the seed's proto send them).
    const v = validateFields(domain, req.body, { enumNumbers: true });
    if (!v.ok) return sendProblem(reply, 422, 'Unprocessable Content', formatErrors(v.errors), { errors: v.errors });
    const id = (key as string | undefined) ?? makeId();
    if (inFlight >= cfg.MAX_IN_FLIGHT) {
      return sendUnavailable(
        reply,
        `${domain.item} ${id} was not accepted: ${inFlight} ${domain.item}s are already in flight; retry with the same Idempotency-Key`,
        { id },
      );
    }
    inFlight++;
    let outcome;
    try {
      outcome = await o.forwarder.forward({ id, ...v.value } as Item);
    } finally {
      inFlight--;
    }
    if (outcome.status === 'accepted') return reply.code(202).send({ id });
    if (outcome.status === 'invalid') return sendProblem(reply, 422, 'Unprocessable Content', outcome.detail, { id });
    return sendUnavailable(reply, `${domain.item} ${id} was not accepted: ${outcome.detail}; retry with the same Idempotency-Key`, { id });
  });

  app.get('/stats', async (_req, reply) => {
    try {
      return await o.stats();
    } catch (err) {
      return sendUnavailable(reply, `valkey is unavailable: ${(err as Error).message}`);
    }
  });

  /**
   * For dashboards (Grafana's Infinity data source, the live page): one group's
   * bar chart as a table, a row per counted value and a column per path
   * (GET /stats/breakdown?group=mixco; for a domain of one dimension, a row per
   * value: sales per category), its reports and averages per path
   * (GET /stats/summary?group=mixco), and its reports and totals per path
   * (GET /stats/totals?group=Ropa: units sold, revenue). The numbers are
   * /stats', read from Valkey.
   */
  const groupOf = (req: FastifyRequest, reply: FastifyReply) => {
    const g = (req.query as Record<string, string | undefined>).group ?? '';
    if (isGroup(domain, g)) return g;
    const values = (domain.fields[domain.groupBy] as { values: readonly string[] }).values;
    const reason = `must be one of ${values.join(', ')}; got ${JSON.stringify(g.slice(0, 40))}`;
    void sendProblem(reply, 400, 'Bad Request', `group ${reason}`, { errors: [{ field: 'group', reason }] });
    return undefined;
  };
  const tables = { '/stats/breakdown': breakdownRows, '/stats/summary': summaryRows, '/stats/totals': totalsRows };
  for (const [route, rows] of Object.entries(tables)) {
    app.get(route, async (req, reply) => {
      const g = groupOf(req, reply);
      if (g === undefined) return reply;
      try {
        return rows(domain, (await o.stats()) as StatsOf<Domain>, g);
      } catch (err) {
        return sendUnavailable(reply, `valkey is unavailable: ${(err as Error).message}`);
      }
    });
  }

  /** GET /recent?path=<path>&limit=<1..100>: the newest items a path applied, newest first, each with `at` (ms). */
  app.get('/recent', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const path = (q.path ?? domain.paths[0]) as BrokerPath;
    const limit = q.limit === undefined ? 20 : Number(q.limit);
    const errors = [
      ...(domain.paths.includes(path)
        ? []
        : [{ field: 'path', reason: `must be one of ${domain.paths.join(', ')}; got ${JSON.stringify(String(path).slice(0, 40))}` }]),
      ...(Number.isInteger(limit) && limit >= 1 && limit <= RECENT_MAX
        ? []
        : [{ field: 'limit', reason: `must be an integer from 1 to ${RECENT_MAX}` }]),
    ];
    if (errors.length > 0) return sendProblem(reply, 400, 'Bad Request', formatErrors(errors), { errors });
    try {
      return { path, items: await o.recent(path, limit) };
    } catch (err) {
      return sendUnavailable(reply, `valkey is unavailable: ${(err as Error).message}`);
    }
  });

  return app;
}
