import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { weather, type BrokerPath, type Tweet } from '@tweets/domain';
import { protoCodec } from '@tweets/wire/codec';
import { grpc, statusError } from '@tweets/wire';
import { buildDispatcher } from '../src/app.js';
import type { WriterLink } from '../src/writers.js';

const codec = protoCodec(weather);
const tweet = (id: string, over: Partial<Tweet> = {}): Tweet => ({
  id,
  municipality: 'guatemala',
  temperature: 18,
  humidity: 70,
  weather: 'cloudy',
  ...over,
});

/** A writer that records what reached it and answers as the test says. */
function fakeWriter(answer: () => Promise<unknown> = async () => ({ status: 'ok' })) {
  const got: { kind: string; ids: string[] }[] = [];
  const link: WriterLink<typeof weather> = {
    one: (t) => (got.push({ kind: 'one', ids: [t.id] }), answer()),
    batch: (ts) => (got.push({ kind: 'batch', ids: ts.map((t) => t.id) }), answer()),
    stream: (bytes) => {
      const d = codec.decodeBatch(bytes);
      got.push({ kind: 'stream', ids: d.ok ? d.value.map((t) => t.id) : [] });
      return answer();
    },
    close() {},
  };
  return { link, got };
}

function build(
  writers: Partial<Record<BrokerPath, WriterLink<typeof weather>>>,
  routes: readonly BrokerPath[] = weather.paths,
  mode: 'batch' | 'unary' = 'batch',
) {
  return buildDispatcher({
    cfg: { DISPATCH_MODE: mode, BATCH_MAX: 500, MAX_PENDING: 1000, BODY_LIMIT_BYTES: 4096, BATCH_BODY_LIMIT_BYTES: 1 << 20 },
    domain: weather,
    codec,
    routes,
    writers,
    log: pino({ level: 'silent' }),
  });
}

const postBatch = (app: ReturnType<typeof build>['app'], tweets: Tweet[]) =>
  app.inject({
    method: 'POST',
    url: '/v1/tweets/batch',
    headers: { 'content-type': 'application/x-protobuf' },
    payload: codec.encodeBatch(tweets),
  });

test('a batch goes to every routed writer as it came; 200 only when all have it durably', async () => {
  const k = fakeWriter();
  const r = fakeWriter();
  const { app } = build({ kafka: k.link, rabbitmq: r.link });
  const res = await postBatch(app, [tweet('a'), tweet('b')]);
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { count: 2, paths: ['kafka', 'rabbitmq'] });
  for (const w of [k, r]) assert.deepEqual(w.got, [{ kind: 'stream', ids: ['a', 'b'] }]);
});

test('a writer that fails makes it a 503 naming the path; one that finds it invalid a 422', async () => {
  const down = build({
    kafka: fakeWriter().link,
    rabbitmq: fakeWriter(() => Promise.reject(statusError(grpc.status.UNAVAILABLE, 'rabbitmq publish failed'))).link,
  });
  const res = await postBatch(down.app, [tweet('c')]);
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['retry-after'], '1');
  assert.match(res.json().detail, /not durably accepted by: rabbitmq \(rabbitmq publish failed\)/);
  const invalid = build({
    kafka: fakeWriter(() => Promise.reject(statusError(grpc.status.INVALID_ARGUMENT, 'humidity must be from 0 to 100'))).link,
    rabbitmq: fakeWriter().link,
  });
  assert.equal((await postBatch(invalid.app, [tweet('d')])).statusCode, 422);
});

test('an invalid batch is refused whole, naming each tweet by index, and reaches no writer', async () => {
  const k = fakeWriter();
  const { app } = build({ kafka: k.link }, ['kafka']);
  const res = await postBatch(app, [tweet('e'), tweet('f', { temperature: 61 })]);
  assert.equal(res.statusCode, 422);
  assert.deepEqual(
    res.json().errors.map((e: { field: string }) => e.field),
    ['tweets[1].temperature'],
  );
  assert.deepEqual(k.got, []);
  const wrongType = await app.inject({
    method: 'POST',
    url: '/v1/tweets/batch',
    headers: { 'content-type': 'application/json' },
    payload: '[]',
  });
  assert.equal(wrongType.statusCode, 415);
});

test('single JSON tweets: batched per writer by default, the seed rpc per tweet in unary mode; only the route is used', async () => {
  const k = fakeWriter();
  const batched = build({ kafka: k.link }, ['kafka']);
  const send = (app: typeof batched.app, t: Tweet) => app.inject({ method: 'POST', url: '/v1/tweets', payload: t });
  const answers = await Promise.all([send(batched.app, tweet('g')), send(batched.app, tweet('h'))]);
  assert.deepEqual(
    answers.map((a) => a.statusCode),
    [200, 200],
  );
  assert.deepEqual(k.got, [{ kind: 'batch', ids: ['g', 'h'] }]);
  const u = fakeWriter();
  const unary = build({ kafka: u.link }, ['kafka'], 'unary');
  assert.deepEqual((await send(unary.app, tweet('i'))).json(), { id: 'i', paths: ['kafka'] });
  assert.deepEqual(u.got, [{ kind: 'one', ids: ['i'] }]);
  assert.equal((await send(unary.app, { ...tweet('j'), weather: 'snowy' } as unknown as Tweet)).statusCode, 422);
});
