import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { weather, type WeatherDomain } from '@tweets/domain';
import { fetchStats, runLoad, waitForCounts } from '@tweets/loadgen';
import { apiReplicas, readState, reconfigureStack } from '@tweets/stack';
import { api, killedUnderLoadCountsOnce, stack, uniq, COUNT_GUARD_MS } from './helpers.js';

// The seed's ingress: NGINX on the API port in front of two API processes, as in front of the API's
// replicas in the cluster. The stack goes back to one API without NGINX afterwards.
before(async () => reconfigureStack(stack, { apis: 2 }), { timeout: 600_000 });
after(async () => reconfigureStack(stack), { timeout: 600_000 });

/** Tweets each API process has accepted so far, from its own /metrics (not through NGINX). */
async function acceptedByEach(): Promise<number[]> {
  return Promise.all(
    apiReplicas(stack, 2).map(async (a) => {
      const text = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
      return Number(/^tweets_received_total\{outcome="accepted"[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    }),
  );
}

test('NGINX spreads the tweets over both API processes, and each is counted once', async () => {
  const s = readState(stack)!;
  assert.equal(s.apis, 2);
  assert.equal(s.components.nginx!.status, 'ready');
  const before = await fetchStats<WeatherDomain>(api);
  const start = await acceptedByEach();
  const n = 3000;
  const r = await runLoad({
    domain: weather,
    url: api,
    count: n,
    concurrency: 20,
    idPrefix: uniq('ingress'),
    retry: { maxTotalMs: 60_000 },
  });
  assert.equal(r.accepted, n, JSON.stringify(r.errors));
  const share = (await acceptedByEach()).map((x, i) => x - start[i]!);
  assert.ok(
    share.every((x) => x > 0),
    `both APIs took tweets (${share.join(' + ')})`,
  );
  assert.equal(share[0]! + share[1]!, n, 'NGINX retried no POST on the other API');
  const { reached, stats } = await waitForCounts(api, before, { kafka: n, rabbitmq: n }, COUNT_GUARD_MS);
  assert.ok(reached);
  for (const p of ['kafka', 'rabbitmq'] as const) assert.equal(stats.paths[p].total - before.paths[p].total, n);
});

test('an API process killed under load: clients retry with their key, nothing is lost or counted twice', { timeout: 600_000 }, () =>
  killedUnderLoadCountsOnce('ingest-api-2', 'ingress-kill'),
);
