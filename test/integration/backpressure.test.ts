import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { weather, type WeatherDomain } from '@tweets/domain';
import { breakdownDelta } from '@tweets/store/stats';
import { fetchStats, runLoad, waitForCounts } from '@tweets/loadgen';
import { api, pidOf, post, sleep, uniq, COUNT_GUARD_MS } from './helpers.js';

const SERVICES = ['ingest-api', 'dispatcher', 'writer-kafka', 'writer-rabbitmq', 'kafka-consumer', 'rabbitmq-consumer'];

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

async function timedPost(body: object, key: string) {
  const t0 = Date.now();
  const res = await fetch(`${api}/tweets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after'), ms: Date.now() - t0 };
}

test('while Kafka hangs: fast 503s with Retry-After, bounded memory, and recovery by itself with nothing lost or doubled', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  const kafka = pidOf('kafka');
  const rssBefore = Object.fromEntries(SERVICES.map((s) => [s, rssMb(pidOf(s))]));

  // A load that retries until accepted runs through the whole outage.
  const idPrefix = uniq('bp');
  const loading = runLoad({
    domain: weather,
    url: api,
    count: 3000,
    concurrency: 50,
    rate: 400,
    idPrefix,
    retry: { maxTotalMs: 60_000 },
    maxDurationMs: 120_000,
  });
  await sleep(1000);
  process.kill(kafka, 'SIGSTOP');
  let probes: Awaited<ReturnType<typeof timedPost>>[];
  let rssPeak: Record<string, number>;
  try {
    await sleep(1500);
    probes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        timedPost({ municipality: 'mixco', temperature: 1, humidity: 1, weather: 'foggy' }, `${idPrefix}-probe-${i}`),
      ),
    );
    await sleep(3000);
    rssPeak = Object.fromEntries(SERVICES.map((s) => [s, rssMb(pidOf(s))]));
  } finally {
    process.kill(kafka, 'SIGCONT');
  }
  for (const p of probes) {
    assert.equal(p.status, 503, 'a tweet cannot be accepted while Kafka hangs');
    assert.equal(p.retryAfter, '1');
    // Not a hang: the API's own deadline (1.5 s) answers long before the client's 10 s; room for a slow machine.
    assert.ok(p.ms < 5000, `503 after ${p.ms} ms`);
  }
  for (const s of SERVICES) {
    assert.ok(rssPeak[s]! < 250, `${s} RSS ${rssPeak[s]} MB`);
    assert.ok(rssPeak[s]! - rssBefore[s]! < 100, `${s} grew from ${rssBefore[s]} to ${rssPeak[s]} MB`);
  }

  const result = await loading;
  assert.equal(result.failed, 0, `every tweet was accepted in the end: ${JSON.stringify(result.errors)}`);
  assert.equal(result.accepted, 3000);
  assert.ok(result.retried > 0, 'the outage was visible to the client');
  // The probes were refused; retry them now so every id we sent is accepted.
  for (let i = 0; i < 20; i++) {
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      if (
        (
          await post(
            { municipality: 'mixco', temperature: 1, humidity: 1, weather: 'foggy' },
            { 'idempotency-key': `${idPrefix}-probe-${i}` },
          )
        ).status === 202
      )
        break;
      await sleep(250);
    }
  }
  const { reached } = await waitForCounts(api, before, { kafka: 3020, rabbitmq: 3020 }, COUNT_GUARD_MS);
  assert.ok(reached, 'both paths caught up');
  await sleep(1500);
  const after = await fetchStats<WeatherDomain>(api);
  const expected = result.accepted_breakdown;
  expected.mixco.foggy += 20;
  for (const p of ['kafka', 'rabbitmq'] as const) {
    assert.equal(after.paths[p].total - before.paths[p].total, 3020, `${p}: exactly the distinct tweets`);
    assert.deepEqual(breakdownDelta(weather, before.paths[p], after.paths[p]), expected, p);
  }
});
