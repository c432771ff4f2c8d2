import { once } from 'node:events';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'iovalkey';
import { weather, type Tweet } from '@tweets/domain';
import { appliedIds, connectValkey, ItemStore, pathKey, readRecent, readStats, scanKeys, seenPattern } from '@tweets/store';
import { creds, stack } from './helpers.js';

const prefix = `t${Date.now().toString(36)}`;
const writer = connectValkey(
  { host: '127.0.0.1', port: stack.ports.valkey, username: 'writer', password: creds.valkeyWriterPassword, name: 'store-test' },
  () => {},
);
after(() => writer.disconnect());
await once(writer, 'ready');

const tweet = (id: string, over: Partial<Tweet> = {}): Tweet => ({
  id,
  municipality: 'mixco',
  temperature: 20,
  humidity: 50,
  weather: 'sunny',
  ...over,
});

test('an id is applied once per path, and the two paths count apart', async () => {
  const store = new ItemStore(weather, writer, { prefix });
  assert.deepEqual(await store.applyBatch('kafka', [tweet('a'), tweet('a'), tweet('b', { weather: 'rainy' })]), [1, 0, 1]);
  assert.deepEqual(await store.applyBatch('kafka', [tweet('a')]), [0]);
  assert.deepEqual(await store.applyBatch('rabbitmq', [tweet('a')]), [1]);
  const s = await readStats(writer, weather, prefix);
  assert.equal(s.paths.kafka.total, 2);
  assert.equal(s.paths.rabbitmq.total, 1);
  assert.deepEqual(s.paths.kafka.counts.mixco, { sunny: 1, cloudy: 0, rainy: 1, foggy: 0 });
  assert.deepEqual(s.paths.kafka.byWeather, { sunny: 1, cloudy: 0, rainy: 1, foggy: 0 });
  assert.deepEqual(s.paths.kafka.counts.chinautla, { sunny: 0, cloudy: 0, rainy: 0, foggy: 0 });
});

test('waiting for a replica that does not confirm fails the batch; the redelivery is then a no-op for what the primary applied', async () => {
  // The test stack's Valkey has no replica: WAIT 1 times out.
  const waiting = new ItemStore(weather, writer, { prefix: `${prefix}w`, waitReplicas: 1, waitTimeoutMs: 50 });
  await assert.rejects(waiting.applyBatch('kafka', [tweet('w1'), tweet('w2')]), /0 of 1 Valkey replicas confirmed the batch within 50 ms/);
  const plain = new ItemStore(weather, writer, { prefix: `${prefix}w` });
  assert.deepEqual(await plain.applyBatch('kafka', [tweet('w1'), tweet('w2'), tweet('w3')]), [0, 0, 1]);
  assert.equal((await readStats(writer, weather, `${prefix}w`)).paths.kafka.total, 3, 'each once');
});

test('averages are kept as sums and counts, updated atomically with the counts', async () => {
  const store = new ItemStore(weather, writer, { prefix: `${prefix}a` });
  await store.applyBatch('kafka', [
    tweet('1', { municipality: 'guatemala', temperature: 10, humidity: 40 }),
    tweet('2', { municipality: 'guatemala', temperature: 21, humidity: 61 }),
    tweet('2', { municipality: 'guatemala', temperature: 99, humidity: 99 }),
  ]);
  const s = await readStats(writer, weather, `${prefix}a`);
  assert.deepEqual(s.paths.kafka.averages.guatemala, { reports: 2, temperature: 15.5, humidity: 50.5 });
  assert.deepEqual(s.paths.kafka.averages.mixco, { reports: 0, temperature: null, humidity: null });
});

test('recent tweets are capped, newest first, and read back with readRecent', async () => {
  const p = `${prefix}r`;
  const store = new ItemStore(weather, writer, { prefix: p, recentCap: 3 });
  const now = Date.now();
  await store.applyBatch('rabbitmq', [tweet('old')], now - 3_600_000);
  await store.applyBatch(
    'rabbitmq',
    ['1', '2', '3', '4', '5'].map((i) => tweet(i)),
    now,
  );
  const recent = await writer.lrange(pathKey(p, 'rabbitmq', 'recent'), 0, -1);
  assert.equal(recent.length, 3);
  assert.equal(JSON.parse(recent[0]!).id, '5');
  assert.deepEqual(await readRecent(writer, weather, 'rabbitmq', 2, p), [
    { at: now, ...tweet('5') },
    { at: now, ...tweet('4') },
  ]);
});

test('recent holds the newest applied tweets of a batch, as JSON with the time applied, and only those count for it', async () => {
  const p = `${prefix}n`;
  const store = new ItemStore(weather, writer, { prefix: p, recentCap: 2 });
  await store.applyBatch('kafka', [tweet('x'), tweet('y')], 1000);
  // The batch's newest two are already applied: the older two are counted, recent keeps x and y.
  assert.deepEqual(await store.applyBatch('kafka', [tweet('z1'), tweet('z2'), tweet('x'), tweet('y')], 2000), [1, 1, 0, 0]);
  const s = await readStats(writer, weather, p);
  assert.equal(s.paths.kafka.total, 4);
  const recent = (await writer.lrange(pathKey(p, 'kafka', 'recent'), 0, -1)).map((j) => JSON.parse(j) as Tweet & { at: number });
  assert.deepEqual(recent, [
    { at: 1000, ...tweet('y') },
    { at: 1000, ...tweet('x') },
  ]);
  // The broker's own JSON is kept as it came.
  await store.applyBatch('kafka', [{ ...tweet('j', { humidity: 7 }), json: '{"id":"j","humidity":7}' }], 3000);
  assert.equal((await writer.lrange(pathKey(p, 'kafka', 'recent'), 0, 0))[0], '{"at":3000,"id":"j","humidity":7}');
});

test('an applied id is remembered for the dedup window, then counts again; its bucket expires whole', async () => {
  const p = `${prefix}t`;
  const store = new ItemStore(weather, writer, { prefix: p, dedupWindowSec: 100, dedupSlices: 4 });
  const t0 = Date.now();
  assert.deepEqual(await store.applyBatch('kafka', [tweet('w1')], t0), [1]);
  assert.deepEqual(await store.applyBatch('kafka', [tweet('w1')], t0 + 99_000), [0], 'a retry within the window');
  assert.deepEqual(await store.applyBatch('kafka', [tweet('w1')], t0 + 126_000), [1], 'a retry after the window and its last bucket');
  const buckets = await scanKeys(writer, seenPattern(p, 'kafka'));
  assert.ok(buckets.length >= 1);
  for (const b of buckets) {
    const ttl = await writer.ttl(b);
    assert.ok(ttl > 0 && ttl <= 100 + 25 + 1, `${b}: ttl ${ttl}: the window and one bucket at most`);
  }
  assert.deepEqual([...(await appliedIds(writer, p, 'kafka', ['w1', 'nope']))], [1, 0]);
});

test('the reader user can read but not write; no user may act without a password', async () => {
  const reader = new Redis({
    port: stack.ports.valkey,
    host: '127.0.0.1',
    username: 'reader',
    password: creds.valkeyReaderPassword,
    lazyConnect: true,
  });
  await reader.connect();
  try {
    await readStats(reader, weather, prefix);
    await assert.rejects(reader.set(`${prefix}:x`, '1'), /NOPERM/);
    await assert.rejects(reader.eval('return 1', 0), /NOPERM/);
  } finally {
    reader.disconnect();
  }
  const anon = new Redis({
    port: stack.ports.valkey,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  anon.on('error', () => {});
  await anon.connect().catch(() => {});
  await assert.rejects(anon.get('x'), /NOAUTH|closed|Connection/i);
  anon.disconnect();
});
