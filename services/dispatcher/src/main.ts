import { createHttpServer, sendProblem, sendUnavailable } from '@tweets/http';
import { Batcher, LatencyWindow, runService } from '@tweets/kit';
import { formatErrors, validateIdentifiedTweet, type Tweet } from '@tweets/tweet';
import { BatchStream, createWriterClient, decodeBatch, grpc, sendEncodedBatch, sendTweet, sendTweets, type WeatherTweetClient } from '@tweets/wire';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readConfig, ROUTES } from './config.js';

type Path = 'kafka' | 'rabbitmq';

await runService({
  name: 'dispatcher',
  async start(log) {
    const cfg = readConfig();
    const addr = (a: { host: string; port: number }) => `${a.host}:${a.port}`;
    const writers: Record<Path, WeatherTweetClient> = {
      kafka: createWriterClient(addr(cfg.KAFKA_WRITER_ADDR)),
      rabbitmq: createWriterClient(addr(cfg.RABBITMQ_WRITER_ADDR)),
    };
    const routes = ROUTES[cfg.ROUTE];
    const streams: Record<Path, BatchStream> = { kafka: new BatchStream(writers.kafka), rabbitmq: new BatchStream(writers.rabbitmq) };
    const sendBatch = (path: Path, body: Buffer) =>
      cfg.BATCH_TRANSPORT === 'stream' ? streams[path].send(body, cfg.RPC_DEADLINE_MS) : sendEncodedBatch(writers[path], body, cfg.RPC_DEADLINE_MS);
    // Single tweets that arrive together go to each writer in one SendTweets call.
    const batchers = Object.fromEntries(
      (['kafka', 'rabbitmq'] as const).map((path) => [
        path,
        new Batcher<Tweet, void>(
          async (tweets) => {
            await sendTweets(writers[path], tweets, cfg.RPC_DEADLINE_MS);
            return new Array<void>(tweets.length);
          },
          { maxSize: cfg.BATCH_MAX, maxWaitMs: 0, maxPending: cfg.MAX_PENDING },
        ),
      ]),
    ) as Record<Path, Batcher<Tweet, void>>;
    let inFlight = 0;
    /** Per path, the time from sending to the writer's answer, for the periodic log. */
    const answered: Record<Path, LatencyWindow> = { kafka: new LatencyWindow(), rabbitmq: new LatencyWindow() };
    const timed = (path: Path, p: Promise<unknown>) => {
      const t0 = performance.now();
      return p.then((v) => {
        answered[path].record(performance.now() - t0);
        return v;
      });
    };
    const app = createHttpServer({ log, bodyLimit: cfg.BODY_LIMIT_BYTES });
    app.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer', bodyLimit: cfg.BATCH_BODY_LIMIT_BYTES }, (_req, body, done) =>
      done(null, body),
    );

    /**
     * Sends to every routed writer at once and answers: 200 only when every
     * writer reports a durable publish; otherwise 503 naming the paths that
     * failed (422 if a writer found the input invalid). A retry with the same
     * ids is safe: consumers apply an id once.
     */
    async function dispatch(req: FastifyRequest, reply: FastifyReply, count: number, send: (path: Path) => Promise<unknown>, ok: object) {
      if (inFlight + count > cfg.MAX_PENDING) {
        return sendUnavailable(reply, `${inFlight} tweets are already in flight; retry with the same ids`);
      }
      inFlight += count;
      let results: PromiseSettledResult<unknown>[];
      try {
        results = await Promise.allSettled(routes.map((path) => timed(path, send(path))));
      } finally {
        inFlight -= count;
      }
      const failed = results.flatMap((r, i) =>
        r.status === 'rejected' ? [{ path: routes[i]!, reason: (r.reason as grpc.ServiceError).details || (r.reason as Error).message || String(r.reason) }] : [],
      );
      if (failed.length === 0) return reply.code(200).send({ ...ok, paths: routes });
      const invalid = results.some((r) => r.status === 'rejected' && (r.reason as grpc.ServiceError).code === grpc.status.INVALID_ARGUMENT);
      if (invalid) return sendProblem(reply, 422, 'Unprocessable Content', failed.map((f) => f.reason).join('; '));
      req.log.warn({ count, failed }, 'not accepted by every broker');
      return sendUnavailable(reply, `not durably accepted by: ${failed.map((f) => `${f.path} (${f.reason})`).join(', ')}`, { failed });
    }

    /** One tweet, with its id, as JSON. */
    app.post('/v1/tweets', async (req, reply) => {
      const v = validateIdentifiedTweet(req.body);
      if (!v.ok) return sendProblem(reply, 422, 'Unprocessable Content', formatErrors(v.errors), { errors: v.errors });
      const tweet = v.value;
      return dispatch(
        req,
        reply,
        1,
        (path) => (cfg.DISPATCH_MODE === 'batch' ? batchers[path].add(tweet) : sendTweet(writers[path], tweet, cfg.RPC_DEADLINE_MS)),
        { id: tweet.id },
      );
    });

    /**
     * A batch as a protobuf WeatherTweetBatch (the ingest API's micro-batches).
     * It is checked whole, then its bytes go to every writer unchanged (numbered,
     * on each writer's long-lived stream). 422
     * names each invalid tweet by index; nothing of an invalid batch is sent.
     */
    app.post('/v1/tweets/batch', async (req, reply) => {
      if (!Buffer.isBuffer(req.body)) {
        return sendProblem(reply, 415, 'Unsupported Media Type', 'content-type must be application/x-protobuf (a WeatherTweetBatch)', {
          errors: [{ field: 'content-type', reason: 'must be application/x-protobuf' }],
        });
      }
      const body = req.body;
      const d = decodeBatch(body, cfg.MAX_PENDING);
      if (!d.ok) return sendProblem(reply, 422, 'Unprocessable Content', d.message, { errors: d.errors });
      if (d.value.length === 0) return reply.code(200).send({ count: 0, paths: routes });
      return dispatch(req, reply, d.value.length, (path) => sendBatch(path, body), { count: d.value.length });
    });

    await app.listen({ host: cfg.HOST, port: cfg.PORT });
    log.info({ routes, port: cfg.PORT, mode: cfg.DISPATCH_MODE }, 'dispatcher listening');
    const statsTimer = setInterval(() => {
      const byPath = Object.fromEntries(routes.map((path) => [path, answered[path].take()]));
      if (Object.values(byPath).some(Boolean)) log.info({ writerAnswer: byPath }, 'dispatched in the last 10 s');
    }, 10_000);
    statsTimer.unref();
    return {
      async stop() {
        clearInterval(statsTimer);
        await app.close();
        await Promise.all(Object.values(batchers).map((b) => b.drain()));
        for (const s of Object.values(streams)) s.close();
        for (const c of Object.values(writers)) c.close();
      },
    };
  },
});
