import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weather, type WeatherDomain } from '@tweets/domain';
import { fetchStats, waitForCounts } from '@tweets/loadgen';
import { entry, k } from './helpers.js';

// The system on a real Kubernetes node: reached as a user reaches it, through the NGINX ingress.

test('a tweet POSTed to the entry URL is counted on both paths; GET /stats answers through the ingress', async () => {
  const before = await fetchStats<WeatherDomain>(entry);
  const res = await fetch(`${entry}/tweets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `cluster-one-${Date.now()}` },
    body: JSON.stringify({ municipality: 'chinautla', temperature: 18, humidity: 80, weather: 'foggy' }),
  });
  assert.equal(res.status, 202, await res.text());
  const { reached, stats } = await waitForCounts<WeatherDomain>(
    entry,
    before,
    Object.fromEntries(weather.paths.map((p) => [p, 1])),
    180_000,
  );
  assert.ok(reached, 'counted on both paths');
  for (const p of weather.paths)
    assert.equal(stats.paths[p].counts.chinautla.foggy - before.paths[p].counts.chinautla.foggy, 1, `${p}: chinautla/foggy`);
});

test('every pod of the system runs as its manifest says: a non-root user, a read-only root file system', () => {
  assert.equal(k('-n', 'tweets', 'exec', 'deploy/ingest-api', '--', 'id', '-u').trim(), '10001');
  const touch = (() => {
    try {
      k('-n', 'tweets', 'exec', 'deploy/ingest-api', '--', 'touch', '/app/x');
      return 'written';
    } catch (err) {
      return (err as Error).message;
    }
  })();
  assert.match(touch, /Read-only file system/);
  for (const ns of ['tweets', 'valkey', 'kafka', 'rabbitmq']) {
    const pods = JSON.parse(k('-n', ns, 'get', 'pods', '-o', 'json')) as {
      items: {
        metadata: { name: string };
        spec: { securityContext?: { runAsNonRoot?: boolean }; containers: { securityContext?: { readOnlyRootFilesystem?: boolean } }[] };
      }[];
    };
    for (const p of pods.items) {
      assert.equal(p.spec.securityContext?.runAsNonRoot, true, `${ns}/${p.metadata.name} runs as non-root`);
      for (const c of p.spec.containers)
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${ns}/${p.metadata.name}: read-only root`);
    }
  }
});
