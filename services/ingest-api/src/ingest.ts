import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatErrors, validateFields, validateId, type Domain, type FieldError, type Item } from '@tweets/domain';
import { sendProblem, sendUnavailable } from '@tweets/http';
import type { Forwarder } from './forward.js';

/** A request's problem, as the 4xx it gets: the status, its title and each field at fault. */
type Problem = { status: 400 | 415 | 422; title: string; errors: FieldError[] };

/** Checks a POSTed item: its content type, its Idempotency-Key if sent, and its fields by the domain's rules. */
function checkRequest(req: FastifyRequest, domain: Domain): Problem | { key?: string; fields: Record<string, unknown> } {
  const ct = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(ct))
    return {
      status: 415,
      title: 'Unsupported Media Type',
      errors: [{ field: 'content-type', reason: `must be application/json; got ${JSON.stringify(ct)}` }],
    };
  const key = req.headers['idempotency-key'];
  if (key !== undefined) {
    const k = validateId(key, 'Idempotency-Key');
    if (!k.ok) return { status: 400, title: 'Bad Request', errors: k.errors };
  }
  // Enum numbers too, as the proto3 JSON mapping writes them (Locust files made from the seed's proto send them).
  const v = validateFields(domain, req.body, { enumNumbers: true });
  if (!v.ok) return { status: 422, title: 'Unprocessable Content', errors: v.errors };
  return { key: key as string | undefined, fields: v.value };
}

/**
 * POST <resource>: 202 once the dispatcher reports the item durably in every broker it is routed to, 503
 * (retry with the same Idempotency-Key) when it may not be, and a 4xx problem naming each bad field
 * otherwise: bad input never reaches a broker. At most `maxInFlight` items are forwarded at once.
 */
export function ingestRoute(
  app: FastifyInstance,
  o: { domain: Domain; forwarder: Pick<Forwarder, 'forward'>; makeId: () => string; maxInFlight: number },
) {
  const { domain } = o;
  let inFlight = 0;
  const retry = (reply: FastifyReply, id: string, why: string) =>
    sendUnavailable(reply, `${domain.item} ${id} was not accepted: ${why}; retry with the same Idempotency-Key`, { id });
  app.post(domain.resource, async (req, reply) => {
    const c = checkRequest(req, domain);
    if ('errors' in c) return sendProblem(reply, c.status, c.title, formatErrors(c.errors), { errors: c.errors });
    const id = c.key ?? o.makeId();
    if (inFlight >= o.maxInFlight) return retry(reply, id, `${inFlight} ${domain.item}s are already in flight`);
    inFlight++;
    let outcome;
    try {
      outcome = await o.forwarder.forward({ id, ...c.fields } as Item);
    } finally {
      inFlight--;
    }
    if (outcome.status === 'accepted') return reply.code(202).send({ id });
    if (outcome.status === 'invalid') return sendProblem(reply, 422, 'Unprocessable Content', outcome.detail, { id });
    return retry(reply, id, outcome.detail);
  });
}
