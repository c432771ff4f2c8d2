import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WeatherDomain } from '@tweets/domain';
import { fetchStats, waitForCounts } from '@tweets/loadgen';
import { api, pidOf, post, sleep, uniq, COUNT_GUARD_MS } from './helpers.js';

const good = { municipality: 'mixco', temperature: 25, humidity: 60, weather: 'sunny' };

/** Every bad request: status, and the field the problem must name. */
const BAD: { name: string; body: unknown; headers?: Record<string, string>; status: number; field: string }[] = [
  { name: 'malformed JSON', body: '{"municipality": "mixco",', status: 400, field: '' },
  { name: 'a JSON array', body: [good], status: 422, field: '' },
  { name: 'a missing field', body: { municipality: 'mixco', temperature: 25, weather: 'sunny' }, status: 422, field: 'humidity' },
  { name: 'an extra field', body: { ...good, extra: 1 }, status: 422, field: 'extra' },
  { name: 'a wrong type', body: { ...good, temperature: '25' }, status: 422, field: 'temperature' },
  { name: 'an unknown municipality', body: { ...good, municipality: 'antigua' }, status: 422, field: 'municipality' },
  { name: 'the municipality zero value', body: { ...good, municipality: 'municipalities_unknown' }, status: 422, field: 'municipality' },
  { name: 'the weather zero value', body: { ...good, weather: 'weathers_unknown' }, status: 422, field: 'weather' },
  { name: 'an unknown weather', body: { ...good, weather: 'snowy' }, status: 422, field: 'weather' },
  { name: 'humidity over 100', body: { ...good, humidity: 101 }, status: 422, field: 'humidity' },
  { name: 'humidity under 0', body: { ...good, humidity: -1 }, status: 422, field: 'humidity' },
  { name: 'an implausible temperature', body: { ...good, temperature: 500 }, status: 422, field: 'temperature' },
  { name: 'a non-integer', body: { ...good, temperature: 25.5 }, status: 422, field: 'temperature' },
  { name: 'a body over the limit', body: JSON.stringify({ ...good, pad: 'x'.repeat(5000) }), status: 413, field: '' },
  {
    name: 'a wrong content type',
    body: JSON.stringify(good),
    headers: { 'content-type': 'text/plain' },
    status: 415,
    field: 'content-type',
  },
  { name: 'a bad Idempotency-Key', body: good, headers: { 'idempotency-key': 'has spaces' }, status: 400, field: 'Idempotency-Key' },
];

test('bad input gets a 4xx problem naming the field and reason, and never reaches a broker', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  for (const b of BAD) {
    const r = await post(b.body, b.headers);
    assert.equal(r.status, b.status, `${b.name}: ${JSON.stringify(r.json)}`);
    assert.match(r.type, /^application\/problem\+json/, b.name);
    assert.equal(r.json.status, b.status, b.name);
    assert.ok(typeof r.json.detail === 'string' && r.json.detail.length > 0, b.name);
    if (b.field) {
      assert.ok(
        r.json.errors?.some((e: { field: string; reason: string }) => e.field === b.field && e.reason),
        `${b.name}: ${JSON.stringify(r.json)}`,
      );
      assert.match(r.json.detail, new RegExp(b.field), b.name);
    }
  }
  // A valid tweet after them, so we know the pipeline drained past whatever they could have left.
  const ok = await post(good, { 'idempotency-key': uniq('after-bad') });
  assert.equal(ok.status, 202);
  const { stats, reached } = await waitForCounts(api, before, { kafka: 1, rabbitmq: 1 }, COUNT_GUARD_MS);
  assert.ok(reached);
  assert.equal(stats.paths.kafka.total - before.paths.kafka.total, 1);
  assert.equal(stats.paths.rabbitmq.total - before.paths.rabbitmq.total, 1);
});

test('a valid tweet gets 202 with its id; the Idempotency-Key becomes the id', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  const key = uniq('key');
  const r = await post(good, { 'idempotency-key': key });
  assert.equal(r.status, 202);
  assert.deepEqual(r.json, { id: key });
  const anon = await post({ ...good, weather: 'foggy' });
  assert.equal(anon.status, 202);
  assert.match(anon.json.id, /^[0-9a-f-]{36}$/);
  assert.ok((await waitForCounts(api, before, { kafka: 2, rabbitmq: 2 }, COUNT_GUARD_MS)).reached);
});

test('the same Idempotency-Key sent again is counted once per path', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  const key = uniq('dup');
  for (let i = 0; i < 3; i++)
    assert.equal((await post({ ...good, municipality: 'chinautla', weather: 'rainy' }, { 'idempotency-key': key })).status, 202);
  const marker = await post(good, { 'idempotency-key': uniq('marker') });
  assert.equal(marker.status, 202);
  const { stats, reached } = await waitForCounts(api, before, { kafka: 2, rabbitmq: 2 }, COUNT_GUARD_MS);
  assert.ok(reached);
  await sleep(500);
  const after = await fetchStats<WeatherDomain>(api);
  for (const p of ['kafka', 'rabbitmq'] as const) {
    assert.equal(after.paths[p].total - before.paths[p].total, 2, p);
    assert.equal(after.paths[p].counts.chinautla.rainy - before.paths[p].counts.chinautla.rainy, 1, p);
  }
  void stats;
});

test('GET /stats has every municipality and condition, zeros included, for both paths', async () => {
  const s = await fetchStats<WeatherDomain>(api);
  for (const p of ['kafka', 'rabbitmq'] as const) {
    assert.equal(typeof s.paths[p].total, 'number');
    assert.deepEqual(Object.keys(s.paths[p].counts).sort(), ['amatitlan', 'chinautla', 'guatemala', 'mixco']);
    for (const m of Object.values(s.paths[p].counts)) assert.deepEqual(Object.keys(m).sort(), ['cloudy', 'foggy', 'rainy', 'sunny']);
  }
});

test('a stalled writer gets a fast 503; the retry with the same id counts once on each path', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  const key = uniq('stall');
  const tweet = { ...good, municipality: 'amatitlan', weather: 'cloudy' };
  const pid = pidOf('writer-rabbitmq');
  process.kill(pid, 'SIGSTOP');
  let first;
  const t0 = Date.now();
  try {
    first = await post(tweet, { 'idempotency-key': key });
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  const elapsed = Date.now() - t0;
  assert.equal(first.status, 503, JSON.stringify(first.json));
  // The point is that a hung writer cannot hang the client: the dispatcher's deadline (1.2 s) and the API's
  // own (1.5 s) answer long before the client's 10-s timeout. The bound leaves a slow machine room.
  assert.ok(elapsed < 5000, `503 took ${elapsed} ms`);
  assert.match(first.json.detail, /rabbitmq/);
  // Retry until accepted, as a client would (the bound only guards against a hang).
  let retry;
  for (const until = Date.now() + 60_000; Date.now() < until;) {
    retry = await post(tweet, { 'idempotency-key': key });
    if (retry.status === 202) break;
    await sleep(250);
  }
  assert.equal(retry?.status, 202);
  const { reached } = await waitForCounts(api, before, { kafka: 1, rabbitmq: 1 }, COUNT_GUARD_MS);
  assert.ok(reached);
  await post(good, { 'idempotency-key': uniq('marker') });
  await waitForCounts(api, before, { kafka: 2, rabbitmq: 2 }, COUNT_GUARD_MS);
  await sleep(500);
  const after = await fetchStats<WeatherDomain>(api);
  for (const p of ['kafka', 'rabbitmq'] as const) {
    assert.equal(
      after.paths[p].counts.amatitlan.cloudy - before.paths[p].counts.amatitlan.cloudy,
      1,
      `${p} counted the retried tweet once`,
    );
  }
});

test('unknown routes and methods get a problem, liveness and readiness answer', async () => {
  const r = await fetch(`${api}/nope`);
  assert.equal(r.status, 404);
  assert.match(r.headers.get('content-type') ?? '', /problem\+json/);
  assert.equal((await fetch(`${api}/livez`)).status, 200);
  assert.equal((await fetch(`${api}/readyz`)).status, 200);
});
