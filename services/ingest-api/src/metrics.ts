import type { FastifyInstance } from 'fastify';
import type { Domain } from '@tweets/domain';
import { Counter, type Registry } from '@tweets/runtime';

/**
 * Counts every answer to POST <resource> once by its status: 2xx accepted (durably in every routed broker),
 * 503 unavailable (retry with the same Idempotency-Key), any other 4xx rejected (bad input, never sent on).
 */
export function countOutcomes(app: FastifyInstance, domain: Domain, registry: Registry): void {
  const received = new Counter({
    name: `${domain.item}s_received_total`,
    help: `${domain.item}s POSTed to ${domain.resource}, by outcome: accepted (202: durably in every routed broker), rejected (4xx: bad input, never sent on), unavailable (503: retry with the same Idempotency-Key)`,
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const [accepted, rejected, unavailable] = (['accepted', 'rejected', 'unavailable'] as const).map((outcome) =>
    received.labels({ outcome }),
  );
  for (const c of [accepted, rejected, unavailable]) c!.inc(0); // every series from the start, at zero
  app.addHook('onResponse', (req, reply, done) => {
    if (req.routeOptions.url === domain.resource && req.method === 'POST') {
      const c = reply.statusCode;
      (c < 300 ? accepted : c === 503 ? unavailable : rejected)!.inc();
    }
    done();
  });
}
