/**
 * The bare ceiling: a Fastify endpoint that parses the tweet's JSON and
 * answers 202, doing nothing else. Started by the benchmark as its own process.
 */
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 28099);
const app = Fastify({ logger: false, bodyLimit: 1024, keepAliveTimeout: 65_000 });
app.post('/tweets', async (req, reply) => {
  const body = req.body as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') return reply.code(400).send({ error: 'body' });
  return reply.code(202).send({ id: String(req.headers['idempotency-key'] ?? '') });
});
await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
