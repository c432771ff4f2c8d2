import { createHttpServer, sendProblem, sendUnavailable } from '@tweets/http';
import { runService } from '@tweets/kit';
import { formatErrors, validateIdentifiedTweet } from '@tweets/tweet';
import { createWriterClient, grpc, sendTweet, type WeatherTweetClient } from '@tweets/wire';
import { readConfig, ROUTES } from './config.js';

await runService({
  name: 'dispatcher',
  async start(log) {
    const cfg = readConfig();
    const addr = (a: { host: string; port: number }) => `${a.host}:${a.port}`;
    const writers: Record<'kafka' | 'rabbitmq', WeatherTweetClient> = {
      kafka: createWriterClient(addr(cfg.KAFKA_WRITER_ADDR)),
      rabbitmq: createWriterClient(addr(cfg.RABBITMQ_WRITER_ADDR)),
    };
    const routes = ROUTES[cfg.ROUTE];
    const app = createHttpServer({ log, bodyLimit: cfg.BODY_LIMIT_BYTES });

    /**
     * One tweet, with its id, to every routed writer at once. 200 only when
     * every writer reports a durable publish; otherwise 503 naming the paths
     * that failed. A retry with the same id is safe: consumers apply an id once.
     */
    app.post('/v1/tweets', async (req, reply) => {
      const v = validateIdentifiedTweet(req.body);
      if (!v.ok) {
        return sendProblem(reply, 422, 'Unprocessable Content', formatErrors(v.errors), { errors: v.errors });
      }
      const results = await Promise.allSettled(routes.map((path) => sendTweet(writers[path], v.value, cfg.RPC_DEADLINE_MS)));
      const failed = results.flatMap((r, i) =>
        r.status === 'rejected' ? [{ path: routes[i]!, reason: (r.reason as grpc.ServiceError).details || String(r.reason) }] : [],
      );
      if (failed.length === 0) return reply.code(200).send({ id: v.value.id, paths: routes });
      const invalid = results.some((r) => r.status === 'rejected' && (r.reason as grpc.ServiceError).code === grpc.status.INVALID_ARGUMENT);
      if (invalid) return sendProblem(reply, 422, 'Unprocessable Content', failed.map((f) => f.reason).join('; '));
      req.log.warn({ id: v.value.id, failed }, 'tweet not accepted by every broker');
      return sendUnavailable(reply, `not durably accepted by: ${failed.map((f) => `${f.path} (${f.reason})`).join(', ')}`, { failed });
    });

    await app.listen({ host: cfg.HOST, port: cfg.PORT });
    log.info({ routes, port: cfg.PORT }, 'dispatcher listening');
    return {
      async stop() {
        await app.close();
        for (const c of Object.values(writers)) c.close();
      },
    };
  },
});
