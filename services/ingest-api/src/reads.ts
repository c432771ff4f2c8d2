import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatErrors, type BrokerPath, type Domain } from '@tweets/domain';
import { breakdownRows, isGroup, summaryRows, totalsRows, type GroupOf, type StatsOf } from '@tweets/store/stats';
import { sendProblem, sendUnavailable } from '@tweets/http';

export const RECENT_MAX = 100;

export interface Reads {
  /** The counts, as GET /stats answers them (read from Valkey). */
  stats(): Promise<unknown>;
  /** The newest items applied on a path, newest first. */
  recent(path: BrokerPath, limit: number): Promise<unknown[]>;
}

/** A read of Valkey, answered 503 at once when Valkey is down. */
async function fromValkey<T>(reply: FastifyReply, read: () => Promise<T>): Promise<T | FastifyReply> {
  try {
    return await read();
  } catch (err) {
    return sendUnavailable(reply, `valkey is unavailable: ${(err as Error).message}`);
  }
}

/** The ?group= of a dashboard table, or undefined once a 400 naming the known groups is sent. */
function groupOf(domain: Domain, req: FastifyRequest, reply: FastifyReply): GroupOf<Domain> | undefined {
  const g = (req.query as Record<string, string | undefined>).group ?? '';
  if (isGroup(domain, g)) return g;
  const values = (domain.fields[domain.groupBy] as { values: readonly string[] }).values;
  const reason = `must be one of ${values.join(', ')}; got ${JSON.stringify(g.slice(0, 40))}`;
  void sendProblem(reply, 400, 'Bad Request', `group ${reason}`, { errors: [{ field: 'group', reason }] });
  return undefined;
}

/** The problems of a GET /recent query: a known path, a limit from 1 to RECENT_MAX. */
function recentErrors(domain: Domain, path: string, limit: number) {
  return [
    ...(domain.paths.includes(path as BrokerPath)
      ? []
      : [{ field: 'path', reason: `must be one of ${domain.paths.join(', ')}; got ${JSON.stringify(path.slice(0, 40))}` }]),
    ...(Number.isInteger(limit) && limit >= 1 && limit <= RECENT_MAX
      ? []
      : [{ field: 'limit', reason: `must be an integer from 1 to ${RECENT_MAX}` }]),
  ];
}

/**
 * The read-only routes, all answered from Valkey: GET /stats; for dashboards (Grafana's Infinity data source,
 * the live page) one group's bar chart as a table, a row per counted value and a column per path
 * (GET /stats/breakdown?group=mixco; for a domain of one dimension, a row per value: sales per category),
 * its reports and averages per path (GET /stats/summary?group=mixco), its reports and totals per path
 * (GET /stats/totals?group=Ropa: units sold, revenue); and GET /recent?path=<path>&limit=<1..100>, the
 * newest items a path applied, newest first, each with `at` (ms).
 */
export function readRoutes(app: FastifyInstance, domain: Domain, reads: Reads): void {
  app.get('/stats', (_req, reply) => fromValkey(reply, () => reads.stats()));
  const tables = { '/stats/breakdown': breakdownRows, '/stats/summary': summaryRows, '/stats/totals': totalsRows };
  for (const [route, rows] of Object.entries(tables)) {
    app.get(route, async (req, reply) => {
      const g = groupOf(domain, req, reply);
      if (g === undefined) return reply;
      return fromValkey(reply, async () => rows(domain, (await reads.stats()) as StatsOf<Domain>, g));
    });
  }
  app.get('/recent', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const path = q.path ?? domain.paths[0]!;
    const limit = q.limit === undefined ? 20 : Number(q.limit);
    const errors = recentErrors(domain, path, limit);
    if (errors.length > 0) return sendProblem(reply, 400, 'Bad Request', formatErrors(errors), { errors });
    return fromValkey(reply, async () => ({ path, items: await reads.recent(path as BrokerPath, limit) }));
  });
}
