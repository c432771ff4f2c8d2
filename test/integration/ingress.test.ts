import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiReplicas, readState, reconfigureStack } from '@tweets/stack';
import { killedUnderLoadCountsOnce, sentCountedOnce, stack } from './helpers.js';

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
  const start = await acceptedByEach();
  const n = 3000;
  await sentCountedOnce('ingress', n);
  const share = (await acceptedByEach()).map((x, i) => x - start[i]!);
  assert.ok(
    share.every((x) => x > 0),
    `both APIs took tweets (${share.join(' + ')})`,
  );
  assert.equal(share[0]! + share[1]!, n, 'NGINX retried no POST on the other API');
});

test('an API process killed under load: clients retry with their key, nothing is lost or counted twice', { timeout: 600_000 }, () =>
  killedUnderLoadCountsOnce('ingest-api-2', 'ingress-kill'),
);
