import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'iovalkey';
import { weather, type WeatherDomain } from '@tweets/domain';
import { breakdownDelta } from '@tweets/store/stats';
import { fetchStats, runLoad, waitForCounts } from '@tweets/loadgen';
import { api, COUNT_GUARD_MS, creds, sleep, stack, uniq } from './helpers.js';

const consumers = { kafka: stack.ports.kafkaConsumer, rabbitmq: stack.ports.rabbitmqConsumer };
const readyz = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) })).status;

// Valkey runs with maxmemory and noeviction: counts are never evicted. When it
// is full it refuses writes; the consumers then ack nothing and retry, their
// readiness says so, the lag grows, and nothing is lost or doubled once memory
// is there again. The wait bounds are guards against a hang.
test(
  'Valkey full: writes refused, consumers not ready and retrying; once memory is raised, every tweet counted exactly once',
  { timeout: 900_000 },
  async () => {
    const admin = new Redis({ host: '127.0.0.1', port: stack.ports.valkey, username: 'default', password: creds.valkeyAdminPassword });
    const [, before] = (await admin.config('GET', 'maxmemory')) as [string, string];
    const stats0 = await fetchStats<WeatherDomain>(api);
    try {
      assert.deepEqual(await admin.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction']);
      // Below what is used: every write is refused from the start, whichever consumer comes first (a margin
      // above it could be filled by one path's writes alone, and the other would never meet the limit).
      const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
      await admin.config('SET', 'maxmemory', String(Math.floor(used / 2)));
      const result = await runLoad({
        domain: weather,
        url: api,
        count: 3000,
        concurrency: 10,
        idPrefix: uniq('oom'),
        retry: { maxTotalMs: 120_000 },
        maxDurationMs: 600_000,
      });
      assert.equal(result.accepted, 3000, 'the API accepts while Valkey is full: the brokers hold the tweets');
      // Both consumers hit the limit: not ready, and the counts stall short of the load.
      const notReady = new Set<string>();
      for (const until = Date.now() + 120_000; Date.now() < until && notReady.size < 2; await sleep(200)) {
        for (const [path, port] of Object.entries(consumers)) if ((await readyz(port)) === 503) notReady.add(path);
      }
      assert.deepEqual([...notReady].sort(), ['kafka', 'rabbitmq'], 'each consumer reports it cannot write');
      const stalled = await fetchStats<WeatherDomain>(api);
      for (const p of weather.paths) assert.ok(stalled.paths[p].total - stats0.paths[p].total < 3000, `${p} stalled while Valkey is full`);

      await admin.config('SET', 'maxmemory', before);
      const { reached } = await waitForCounts(api, stats0, { kafka: 3000, rabbitmq: 3000 }, COUNT_GUARD_MS);
      assert.ok(reached, 'both paths caught up once memory was raised');
      await sleep(1500);
      const after = await fetchStats<WeatherDomain>(api);
      for (const p of weather.paths) {
        assert.equal(after.paths[p].total - stats0.paths[p].total, 3000, `${p}: none lost, none doubled`);
        assert.deepEqual(breakdownDelta(weather, stats0.paths[p], after.paths[p]), result.accepted_breakdown, p);
      }
      for (const [path, port] of Object.entries(consumers)) {
        let status = 0;
        for (const until = Date.now() + 60_000; Date.now() < until && status !== 200; await sleep(200)) status = await readyz(port);
        assert.equal(status, 200, `${path} consumer ready again`);
      }
    } finally {
      await admin.config('SET', 'maxmemory', before);
      admin.disconnect();
    }
  },
);
