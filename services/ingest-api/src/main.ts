import { randomUUID } from 'node:crypto';
import { createHttpServer, sendProblem, sendUnavailable } from '@tweets/http';
import { runService, secretNames } from '@tweets/kit';
import { connectFromConfig, readStats } from '@tweets/store';
import { formatErrors, validateId, validateTweet } from '@tweets/tweet';
import { readConfig, spec } from './config.js';
import { createForwarder } from './forward.js';

await runService({
  name: 'ingest-api',
  secrets: secretNames(spec),
  async start(log) {
    const cfg = readConfig();
    const forwarder = createForwarder({
      url: cfg.DISPATCHER_URL,
      mode: cfg.FORWARD_MODE,
      timeoutMs: cfg.FORWARD_TIMEOUT_MS,
      connections: cfg.DISPATCHER_CONNECTIONS,
      lingerMs: cfg.FORWARD_LINGER_MS,
      maxBatches: cfg.FORWARD_MAX_BATCHES,
      batchMax: cfg.FORWARD_BATCH_MAX,
      log,
    });
    const valkey = connectFromConfig(cfg, 'ingest-api', log);

    const app = createHttpServer({ log, bodyLimit: cfg.BODY_LIMIT_BYTES });
    let inFlight = 0;

    /**
     * 202 once the dispatcher reports the tweet durably in every broker it is
     * routed to; 503 (retry with the same Idempotency-Key) when it may not be.
     */
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
      const v = validateTweet(req.body);
      if (!v.ok) return sendProblem(reply, 422, 'Unprocessable Content', formatErrors(v.errors), { errors: v.errors });
      const id = (key as string | undefined) ?? randomUUID();
      if (inFlight >= cfg.MAX_IN_FLIGHT) {
        return sendUnavailable(reply, `tweet ${id} was not accepted: ${inFlight} tweets are already in flight; retry with the same Idempotency-Key`, { id });
      }
      inFlight++;
      let outcome;
      try {
        outcome = await forwarder.forward({ id, ...v.value });
      } finally {
        inFlight--;
      }
      if (outcome.status === 'accepted') return reply.code(202).send({ id });
      if (outcome.status === 'invalid') return sendProblem(reply, 422, 'Unprocessable Content', outcome.detail, { id });
      return sendUnavailable(reply, `tweet ${id} was not accepted: ${outcome.detail}; retry with the same Idempotency-Key`, { id });
    });

    app.get('/stats', async (_req, reply) => {
      try {
        return await readStats(valkey, cfg.VALKEY_PREFIX);
      } catch (err) {
        return sendUnavailable(reply, `valkey is unavailable: ${(err as Error).message}`);
      }
    });

    await app.listen({ host: cfg.HOST, port: cfg.PORT });
    let last = { ...forwarder.sent };
    const statsTimer = setInterval(() => {
      const { requests, tweets } = forwarder.sent;
      const roundTrip = forwarder.latency.take();
      if (requests > last.requests) {
        log.info(
          {
            tweets: tweets - last.tweets,
            requests: requests - last.requests,
            perRequest: Math.round(((tweets - last.tweets) / (requests - last.requests)) * 10) / 10,
            roundTrip,
          },
          'forwarded in the last 10 s',
        );
      }
      last = { requests, tweets };
    }, 10_000);
    statsTimer.unref();
    return {
      async stop() {
        clearInterval(statsTimer);
        await app.close();
        await forwarder.close();
        valkey.disconnect();
      },
    };
  },
});
