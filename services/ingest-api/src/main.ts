import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { createHttpServer, sendProblem, sendUnavailable } from '@tweets/http';
import { runService, secretNames } from '@tweets/kit';
import { connectFromConfig, readStats } from '@tweets/store';
import { formatErrors, validateId, validateTweet, type TweetFields } from '@tweets/tweet';
import type { FastifyReply } from 'fastify';
import { readConfig, spec } from './config.js';

await runService({
  name: 'ingest-api',
  secrets: secretNames(spec),
  async start(log) {
    const cfg = readConfig();
    const dispatcher = new Pool(cfg.DISPATCHER_URL, {
      connections: cfg.DISPATCHER_CONNECTIONS,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connectTimeout: Math.min(1000, cfg.FORWARD_TIMEOUT_MS),
    });
    const valkey = connectFromConfig(cfg, 'ingest-api', log);

    const app = createHttpServer({ log, bodyLimit: cfg.BODY_LIMIT_BYTES });
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
      const v = validateTweet(req.body);
      if (!v.ok) return sendProblem(reply, 422, 'Unprocessable Content', formatErrors(v.errors), { errors: v.errors });
      const id = (key as string | undefined) ?? randomUUID();
      if (inFlight >= cfg.MAX_IN_FLIGHT) {
        return sendUnavailable(reply, `tweet ${id} was not accepted: ${inFlight} tweets are already in flight; retry with the same Idempotency-Key`, { id });
      }
      inFlight++;
      try {
        return await forward(id, v.value, reply);
      } finally {
        inFlight--;
      }
    });

    async function forward(id: string, tweet: TweetFields, reply: FastifyReply) {
      let status: number;
      let problem: { detail?: string } = {};
      try {
        const res = await dispatcher.request({
          path: '/v1/tweets',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id, ...tweet }),
          signal: AbortSignal.timeout(cfg.FORWARD_TIMEOUT_MS),
        });
        status = res.statusCode;
        if (status >= 300) problem = (await res.body.json().catch(() => ({}))) as typeof problem;
        else await res.body.dump();
      } catch (err) {
        const e = err as Error & { code?: string };
        const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${cfg.FORWARD_TIMEOUT_MS} ms` : (e.code ?? e.message);
        log.warn({ id, why }, 'dispatcher unavailable');
        return sendUnavailable(reply, `tweet ${id} was not accepted: the dispatcher is unavailable (${why}); retry with the same Idempotency-Key`, { id });
      }
      if (status >= 200 && status < 300) return reply.code(202).send({ id });
      if (status === 422) return sendProblem(reply, 422, 'Unprocessable Content', problem.detail ?? 'rejected by the dispatcher');
      return sendUnavailable(reply, `tweet ${id} was not accepted: ${problem.detail ?? `dispatcher answered ${status}`}; retry with the same Idempotency-Key`, { id });
    }

    app.get('/stats', async (_req, reply) => {
      try {
        return await readStats(valkey, cfg.VALKEY_PREFIX);
      } catch (err) {
        return sendUnavailable(reply, `valkey is unavailable: ${(err as Error).message}`);
      }
    });

    await app.listen({ host: cfg.HOST, port: cfg.PORT });
    return {
      async stop() {
        await app.close();
        await dispatcher.close();
        valkey.disconnect();
      },
    };
  },
});
