import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Histogram, int, LATENCY_BUCKETS, type Logger, type Registry } from '@tweets/runtime';
import type { FieldError } from '@tweets/domain';

/** An RFC 9457 problem body. `errors` names each offending field and why. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

export function sendProblem(
  reply: FastifyReply,
  status: number,
  title: string,
  detail: string,
  extra: Partial<Problem> = {},
): FastifyReply {
  const body: Problem = { type: 'about:blank', title, status, detail, ...extra };
  return reply.code(status).type('application/problem+json').send(body);
}

/** 503 with Retry-After: the request may be retried as is, with the same id. */
export function sendUnavailable(reply: FastifyReply, detail: string, extra: Partial<Problem> = {}): FastifyReply {
  reply.header('retry-after', '1');
  return sendProblem(reply, 503, 'Service Unavailable', detail, extra);
}

export interface HttpOptions {
  log: Logger;
  /** Largest request body accepted, in bytes; larger gets 413. */
  bodyLimit: number;
  /** The service's metrics: served at /metrics, and every request's duration recorded in it. */
  metrics?: Registry;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  411: 'Length Required',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * How long a stopping server keeps answering, not ready, before it closes (closeAfterDrain): 0 locally;
 * the Kubernetes manifests give the time an endpoint's removal takes to reach the Service and the ingress.
 */
export const drainSpec = { DRAIN_DELAY_MS: int({ default: 0, min: 0, max: 60_000 }) };

/** Each server's drain state: set as its drain starts, by closeAfterDrain or by close(). */
const draining = new WeakMap<FastifyInstance, { closing: boolean }>();

/**
 * Stops a server without failing a request a client or a proxy is about to send: first it answers as
 * usual for `delayMs`, not ready (/readyz 503), each answer asking its client to close the connection, so
 * that the endpoint is removed everywhere (a Kubernetes Service, an ingress) and pooled connections move to
 * the other replicas; then it closes (503 to what still comes, in-flight requests answered).
 */
export async function closeAfterDrain(app: FastifyInstance, delayMs: number): Promise<void> {
  const state = draining.get(app);
  if (state) state.closing = true;
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  await app.close();
}

/** Only application/json, bounded; malformed JSON is a 400 naming the parse error. */
function strictJson(app: FastifyInstance, bodyLimit: number): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      const e = new Error(`body is not valid JSON: ${(err as Error).message}`) as Error & { statusCode: number; field: string };
      e.statusCode = 400;
      done(e, undefined);
    }
  });
}

/** A client error as the problem's detail and the field at fault ('' for the body). */
function clientError(err: Error & { code?: string }, req: FastifyRequest, bodyLimit: number): { detail: string; field: string } {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return {
        detail: `content-type must be application/json; got ${JSON.stringify(req.headers['content-type'] ?? '')}`,
        field: 'content-type',
      };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { detail: `body must be at most ${bodyLimit} bytes`, field: '' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { detail: 'body must be a JSON object; it is empty', field: '' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { detail: 'content-length does not match the body', field: 'content-length' };
    default:
      return { detail: err.message, field: '' };
  }
}

/** Every error as application/problem+json: a 4xx names the field and the reason, a 5xx is logged and says no more. */
function problemErrors(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req: FastifyRequest, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return sendProblem(reply, status, TITLES[status] ?? 'Error', 'the server failed to handle the request');
    }
    const { detail, field } = clientError(err, req, bodyLimit);
    return sendProblem(reply, status, TITLES[status] ?? 'Bad Request', detail, { errors: [{ field, reason: detail }] });
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, 404, 'Not Found', `no route for ${req.method} ${req.url.split('?')[0]}`));
}

/** http_server_request_duration_seconds for every answer, and GET /metrics. */
function serveMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Time from a request received to its answer sent, by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  app.addHook('onResponse', (req, reply, done) => {
    duration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
}

/**
 * /livez, /readyz (503 once closing), and from close() on every answer asks its client to close the
 * keep-alive connection, so draining does not wait for idle clients.
 */
function probesAndDrain(app: FastifyInstance): void {
  const state = { closing: false };
  app.addHook('preClose', async () => {
    state.closing = true;
  });
  draining.set(app, state);
  // A callback hook, not an async one: it runs on every answer, and a promise per answer is measurable.
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (state.closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.get('/livez', async () => 'ok\n');
  app.get('/readyz', async (_req, reply) => {
    const ok = !state.closing;
    return reply
      .code(ok ? 200 : 503)
      .type('text/plain')
      .send(ok ? 'ready\n' : 'not ready\n');
  });
}

/**
 * A Fastify instance with: a strict JSON parser (only application/json,
 * bounded size, malformed JSON is a 400 naming the parse error), every error
 * as application/problem+json, /livez and /readyz, and 503 while closing.
 */
export function createHttpServer(opts: HttpOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: opts.log as unknown as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: 'idle',
    // No child logger per request: requests are not logged, and building a pino
    // child (bindings, redaction) for each of thousands per second is measurable.
    // Handlers that log name the tweet ids themselves.
    childLoggerFactory: (logger) => logger,
  });
  strictJson(app, opts.bodyLimit);
  problemErrors(app, opts.bodyLimit);
  probesAndDrain(app);
  if (opts.metrics) serveMetrics(app, opts.metrics);
  return app;
}
