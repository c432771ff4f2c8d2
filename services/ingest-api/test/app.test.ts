import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { blackfriday, weather, type Item } from '@tweets/domain';
import { createRegistry } from '@tweets/runtime';
import { buildApi } from '../src/app.js';
import type { Outcome } from '../src/forward.js';

const good = { municipality: 'mixco', temperature: 25, humidity: 60, weather: 'sunny' };

/** The API over a forwarder that answers what the test says, and remembers what it was given. */
function build(answer: (t: Item) => Outcome | Promise<Outcome> = () => ({ status: 'accepted' }), maxInFlight = 100) {
  const forwarded: Item[] = [];
  const app = buildApi({
    cfg: { BODY_LIMIT_BYTES: 1024, MAX_IN_FLIGHT: maxInFlight },
    domain: weather,
    forwarder: { forward: async (t) => (forwarded.push(t), answer(t)) },
    stats: async () => ({ paths: {} }),
    recent: async (path, limit) => [{ path, limit }],
    log: pino({ level: 'silent' }),
    makeId: () => 'made-id',
  });
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/tweets',
      headers: { 'content-type': 'application/json', ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return { app, forwarded, post };
}

test('202 with the Idempotency-Key as the id once forwarded; without a key the API makes one', async () => {
  const { post, forwarded } = build();
  const r = await post(good, { 'idempotency-key': 'k-1' });
  assert.equal(r.statusCode, 202);
  assert.deepEqual(r.json(), { id: 'k-1' });
  assert.deepEqual((await post(good)).json(), { id: 'made-id' });
  assert.deepEqual(forwarded, [
    { id: 'k-1', ...good },
    { id: 'made-id', ...good },
  ]);
});

test('enums by their proto number (the proto3 JSON mapping) are taken and forwarded by name; 0 is refused', async () => {
  const { post, forwarded } = build();
  assert.equal((await post({ ...good, municipality: 2, weather: 4 }, { 'idempotency-key': 'n-1' })).statusCode, 202);
  assert.deepEqual(forwarded, [{ id: 'n-1', ...good, municipality: 'guatemala', weather: 'foggy' }]);
  const zero = await post({ ...good, municipality: 0 });
  assert.equal(zero.statusCode, 422);
  assert.match(zero.json().detail, /municipality must be one of .*; got 0 \(municipalities_unknown\)/);
});

test('bad input gets a problem naming the field, and is never forwarded', async () => {
  const { post, forwarded } = build();
  const cases: [unknown, Record<string, string>, number, string][] = [
    ['{bad', {}, 400, ''],
    [{ ...good, humidity: 101 }, {}, 422, 'humidity'],
    [{ ...good, extra: 1 }, {}, 422, 'extra'],
    [good, { 'idempotency-key': 'has space' }, 400, 'Idempotency-Key'],
    [good, { 'content-type': 'text/plain' }, 415, 'content-type'],
    [JSON.stringify({ ...good, pad: 'x'.repeat(2000) }), {}, 413, ''],
  ];
  for (const [body, headers, status, field] of cases) {
    const r = await post(body, headers);
    assert.equal(r.statusCode, status, r.body);
    assert.match(String(r.headers['content-type']), /^application\/problem\+json/);
    if (field)
      assert.ok(
        r.json().errors.some((e: { field: string }) => e.field === field),
        r.body,
      );
  }
  assert.deepEqual(forwarded, []);
});

test('a dispatcher that may not have it gets a 503 with Retry-After; one that found it invalid a 422', async () => {
  const unavailable = build(() => ({ status: 'unavailable', detail: 'the dispatcher is unavailable (ECONNREFUSED)' }));
  const r = await unavailable.post(good, { 'idempotency-key': 'k-2' });
  assert.equal(r.statusCode, 503);
  assert.equal(r.headers['retry-after'], '1');
  assert.match(r.json().detail, /k-2 was not accepted: the dispatcher is unavailable.*retry with the same Idempotency-Key/);
  const invalid = build(() => ({ status: 'invalid', detail: 'humidity must be from 0 to 100' }));
  assert.equal((await invalid.post(good)).statusCode, 422);
});

test('past MAX_IN_FLIGHT a tweet is refused at once with a 503, so memory stays bounded', async () => {
  let release!: () => void;
  const held = new Promise<Outcome>((r) => (release = () => r({ status: 'accepted' })));
  const { post } = build(() => held, 1);
  const first = post(good, { 'idempotency-key': 'first' });
  await new Promise((r) => setImmediate(r));
  const second = await post(good, { 'idempotency-key': 'second' });
  assert.equal(second.statusCode, 503);
  assert.match(second.json().detail, /1 tweets are already in flight/);
  release();
  assert.equal((await first).statusCode, 202);
});

test('GET /recent checks its path and limit; GET /stats answers 503 while Valkey is down', async () => {
  const { app } = build();
  assert.deepEqual((await app.inject('/recent?path=rabbitmq&limit=5')).json(), {
    path: 'rabbitmq',
    items: [{ path: 'rabbitmq', limit: 5 }],
  });
  const bad = await app.inject('/recent?path=nope&limit=500');
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(
    bad.json().errors.map((e: { field: string }) => e.field),
    ['path', 'limit'],
  );
  const down = buildApi({
    cfg: { BODY_LIMIT_BYTES: 1024, MAX_IN_FLIGHT: 1 },
    domain: weather,
    forwarder: { forward: async () => ({ status: 'accepted' }) },
    stats: () => Promise.reject(new Error('Connection is closed.')),
    recent: async () => [],
    log: pino({ level: 'silent' }),
  });
  const r = await down.inject('/stats');
  assert.equal(r.statusCode, 503);
  assert.match(r.json().detail, /valkey is unavailable/);
});

test('the dashboards read one municipality as a table: a row per condition with a column per path, and reports and averages per path; /metrics counts the outcomes', async () => {
  const counts = (n: number) => ({
    mixco: { sunny: n, cloudy: 2, rainy: 0, foggy: 1 },
    guatemala: { sunny: 0, cloudy: 0, rainy: 0, foggy: 0 },
    amatitlan: { sunny: 0, cloudy: 0, rainy: 0, foggy: 0 },
    chinautla: { sunny: 0, cloudy: 0, rainy: 0, foggy: 0 },
  });
  const averages = {
    mixco: { reports: 6, temperature: 21.5, humidity: 50 },
    guatemala: { reports: 0, temperature: null, humidity: null },
    amatitlan: { reports: 0, temperature: null, humidity: null },
    chinautla: { reports: 0, temperature: null, humidity: null },
  };
  const metrics = createRegistry('ingest-api', { defaults: false });
  const app = buildApi({
    cfg: { BODY_LIMIT_BYTES: 1024, MAX_IN_FLIGHT: 100 },
    domain: weather,
    forwarder: { forward: async () => ({ status: 'accepted' as const }) },
    stats: async () => ({
      paths: { kafka: { total: 6, counts: counts(3), averages }, rabbitmq: { total: 5, counts: counts(2), averages } },
    }),
    recent: async () => [],
    log: pino({ level: 'silent' }),
    metrics,
  });
  const rows = await app.inject({ method: 'GET', url: '/stats/breakdown?group=mixco' });
  assert.equal(rows.statusCode, 200);
  assert.deepEqual(rows.json(), [
    { weather: 'sunny', kafka: 3, rabbitmq: 2 },
    { weather: 'cloudy', kafka: 2, rabbitmq: 2 },
    { weather: 'rainy', kafka: 0, rabbitmq: 0 },
    { weather: 'foggy', kafka: 1, rabbitmq: 1 },
  ]);
  assert.deepEqual((await app.inject({ method: 'GET', url: '/stats/summary?group=mixco' })).json(), [
    { path: 'kafka', reports: 6, temperature: 21.5, humidity: 50 },
    { path: 'rabbitmq', reports: 6, temperature: 21.5, humidity: 50 },
  ]);
  const bad = await app.inject({ method: 'GET', url: '/stats/breakdown?group=antigua' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().detail, /group must be one of mixco, guatemala, amatitlan, chinautla; got "antigua"/);
  const send = (body: unknown) =>
    app.inject({ method: 'POST', url: '/tweets', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  await send(good);
  await send(good);
  await send({ ...good, humidity: 101 });
  const text = await (await app.inject({ method: 'GET', url: '/metrics' })).body;
  const sample = (name: string, labels: string) =>
    new RegExp(
      `^${name}\\{(?=[^}]*service="ingest-api")${labels
        .split(',')
        .map((l) => `(?=[^}]*${l})`)
        .join('')}[^}]*\\} (\\S+)$`,
      'm',
    ).exec(text)?.[1];
  assert.equal(sample('tweets_received_total', 'outcome="accepted"'), '2');
  assert.equal(sample('tweets_received_total', 'outcome="rejected"'), '1');
  assert.equal(sample('tweets_received_total', 'outcome="unavailable"'), '0');
  assert.equal(sample('http_server_request_duration_seconds_count', 'method="POST",route="/tweets",status_code="202"'), '2');
});

test('the Black Friday domain: POST /sales takes a sale, forwards it by name, and names each bad field', async () => {
  const forwarded: Item[] = [];
  const app = buildApi({
    cfg: { BODY_LIMIT_BYTES: 1024, MAX_IN_FLIGHT: 10 },
    domain: blackfriday,
    forwarder: { forward: async (t) => (forwarded.push(t), { status: 'accepted' }) },
    stats: async () => ({ paths: {} }),
    recent: async () => [],
    log: pino({ level: 'silent' }),
    makeId: () => 'made-id',
  });
  const post = (body: unknown, url = '/sales') =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const sale = { categoria: 'Electronica', producto_id: 'SKU-9', precio: 19.99, cantidad_vendida: 2 };
  assert.equal((await post(sale)).statusCode, 202);
  assert.equal((await post({ ...sale, categoria: 3 })).statusCode, 202);
  assert.deepEqual(forwarded, [
    { id: 'made-id', ...sale },
    { id: 'made-id', ...sale, categoria: 'Hogar' },
  ]);
  const bad = await post({ categoria: 'Juguetes', producto_id: '', precio: 1.999, cantidad_vendida: 0, weather: 'sunny' });
  assert.equal(bad.statusCode, 422);
  assert.deepEqual(
    bad
      .json()
      .errors.map((e: { field: string }) => e.field)
      .sort(),
    ['cantidad_vendida', 'categoria', 'precio', 'producto_id', 'weather'],
  );
  assert.equal((await post(sale, '/tweets')).statusCode, 404, 'a sales API serves no tweets');
  assert.equal(forwarded.length, 2, 'bad input is never forwarded');
});
