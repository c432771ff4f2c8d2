import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { formatErrors, validateFields, validateId, type BrokerPath, type Domain, type Item } from '@tweets/domain';
import { createHttpServer, sendProblem, sendUnavailable } from '@tweets/http';
import type { Logger } from '@tweets/kit';
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
  const app = createHttpServer({ log: o.log, bodyLimit: cfg.BODY_LIMIT_BYTES });
  let inFlight = 0;

  app.post('/tweets', async (req, reply) => {
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
      return sendUnavailable(reply, `${domain.item} ${id} was not accepted: ${inFlight} ${domain.item}s are already in flight; retry with the same Idempotency-Key`, { id });
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

  /** GET /recent?path=<path>&limit=<1..100>: the newest items a path applied, newest first, each with `at` (ms). */
  app.get('/recent', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const path = (q.path ?? domain.paths[0]) as BrokerPath;
    const limit = q.limit === undefined ? 20 : Number(q.limit);
    const errors = [
      ...(domain.paths.includes(path) ? [] : [{ field: 'path', reason: `must be one of ${domain.paths.join(', ')}; got ${JSON.stringify(String(path).slice(0, 40))}` }]),
      ...(Number.isInteger(limit) && limit >= 1 && limit <= RECENT_MAX ? [] : [{ field: 'limit', reason: `must be an integer from 1 to ${RECENT_MAX}` }]),
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
