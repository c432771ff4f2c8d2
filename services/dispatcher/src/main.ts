import { createHttpServer, sendProblem, sendUnavailable } from '@tweets/http';
import { Batcher, runService } from '@tweets/kit';
import { formatErrors, validateIdentifiedTweet, type Tweet } from '@tweets/tweet';
import { createWriterClient, grpc, sendTweet, sendTweets, type WeatherTweetClient } from '@tweets/wire';
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
    // Tweets that arrive together go to each writer in one SendTweets call.
    const batchers = Object.fromEntries(
      (['kafka', 'rabbitmq'] as const).map((path) => [
        path,
        new Batcher<Tweet, void>(
          async (tweets) => {
            await sendTweets(writers[path], tweets, cfg.RPC_DEADLINE_MS);
            return tweets.map(() => undefined);
          },
          { maxSize: cfg.BATCH_MAX, maxWaitMs: 0, maxPending: cfg.MAX_PENDING },
        ),
      ]),
    ) as Record<'kafka' | 'rabbitmq', Batcher<Tweet, void>>;
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
      const tweet = v.value;
      const results = await Promise.allSettled(
        routes.map((path) => (cfg.DISPATCH_MODE === 'batch' ? batchers[path].add(tweet) : sendTweet(writers[path], tweet, cfg.RPC_DEADLINE_MS))),
      );
      const failed = results.flatMap((r, i) =>
        r.status === 'rejected' ? [{ path: routes[i]!, reason: (r.reason as grpc.ServiceError).details || (r.reason as Error).message || String(r.reason) }] : [],
      );
      if (failed.length === 0) return reply.code(200).send({ id: v.value.id, paths: routes });
      const invalid = results.some((r) => r.status === 'rejected' && (r.reason as grpc.ServiceError).code === grpc.status.INVALID_ARGUMENT);
      if (invalid) return sendProblem(reply, 422, 'Unprocessable Content', failed.map((f) => f.reason).join('; '));
      req.log.warn({ id: v.value.id, failed }, 'tweet not accepted by every broker');
      return sendUnavailable(reply, `not durably accepted by: ${failed.map((f) => `${f.path} (${f.reason})`).join(', ')}`, { failed });
    });

    await app.listen({ host: cfg.HOST, port: cfg.PORT });
    log.info({ routes, port: cfg.PORT, mode: cfg.DISPATCH_MODE }, 'dispatcher listening');
    return {
      async stop() {
        await app.close();
        await Promise.all(Object.values(batchers).map((b) => b.drain()));
        for (const c of Object.values(writers)) c.close();
      },
    };
  },
});
