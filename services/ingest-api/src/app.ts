import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { BrokerPath, Domain } from '@tweets/domain';
import { createHttpServer } from '@tweets/http';
import type { Logger, Registry } from '@tweets/runtime';
import type { ApiConfig } from './config.js';
import type { Forwarder } from './forward.js';
import { ingestRoute } from './ingest.js';
import { countOutcomes } from './metrics.js';
import { readRoutes } from './reads.js';

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

/**
 * The public REST API. POST /tweets answers 202 once the dispatcher reports
 * the item durably in every broker it is routed to, 503 (retry with the same
 * Idempotency-Key) when it may not be, and a 4xx problem naming each bad field
 * otherwise: bad input never reaches a broker. GET /stats and GET /recent read
 * Valkey with a read-only user.
 */
export function buildApi(o: ApiOptions): FastifyInstance {
  const app = createHttpServer({ log: o.log, bodyLimit: o.cfg.BODY_LIMIT_BYTES, metrics: o.metrics });
  if (o.metrics) countOutcomes(app, o.domain, o.metrics);
  ingestRoute(app, { domain: o.domain, forwarder: o.forwarder, makeId: o.makeId ?? randomUUID, maxInFlight: o.cfg.MAX_IN_FLIGHT });
  readRoutes(app, o.domain, o);
  return app;
}
