import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { jsonCodec, weather, type BrokerPath, type Tweet } from '@tweets/domain';
import type { Applied } from '@tweets/store';
import { createConsumerCore, type Delivery, type Poison } from '../src/index.js';

const log = pino({ level: 'silent' });
const codec = jsonCodec(weather);
const tweet = (id: string, over: Partial<Tweet> = {}): Tweet => ({
  id,
  municipality: 'mixco',
  temperature: 20,
  humidity: 50,
  weather: 'sunny',
  ...over,
});

/** A store that remembers ids per path, as the apply script does, and can be made to fail. */
function fakeStore() {
  const seen = new Set<string>();
  const calls: { path: BrokerPath; ids: string[] }[] = [];
  let failures = 0;
  return {
    calls,
    failNext(n: number) {
      failures = n;
    },
    async applyBatch(path: BrokerPath, items: readonly Applied<typeof weather>[]): Promise<number[]> {
      if (failures > 0) {
        failures--;
        throw new Error('valkey is down');
      }
      calls.push({ path, ids: items.map((t) => t.id) });
      return items.map((t) => (seen.has(`${path}/${t.id}`) ? 0 : (seen.add(`${path}/${t.id}`), 1)));
    },
  };
}

function setup(over: { batchMax?: number; deadLetter?: (p: Poison<number>[]) => Promise<void>; stopping?: () => boolean } = {}) {
  const store = fakeStore();
  const dlq: Poison<number>[] = [];
  const core = createConsumerCore<typeof weather, number>({
    domain: weather,
    path: 'kafka',
    store,
    batchMax: over.batchMax ?? 500,
    stopping: over.stopping ?? (() => false),
    log,
    deadLetter: over.deadLetter ?? (async (p) => void dlq.push(...p)),
  });
  return { store, dlq, core };
}

const one = (t: Tweet, ref = 0): Delivery<number> => ({ body: codec.encode(t), ref });

test('single and batch messages are applied once each; the counts say what was new', async () => {
  const { store, core, dlq } = setup();
  await core.handle([
    one(tweet('a')),
    { body: codec.encodeBatch([tweet('b'), tweet('c')]), contentType: weather.broker.batchContentType, ref: 1 },
    one(tweet('a')),
  ]);
  assert.deepEqual(store.calls, [{ path: 'kafka', ids: ['a', 'b', 'c', 'a'] }]);
  assert.deepEqual(core.counts, { applied: 3, duplicates: 1, deadLettered: 0 });
  assert.deepEqual(dlq, []);
});

test('an array without a content type is read as a batch; a single message keeps its JSON for recent', async () => {
  const { store, core } = setup();
  const items: Applied<typeof weather>[] = [];
  const s = store.applyBatch.bind(store);
  store.applyBatch = async (path, batch) => {
    items.push(...batch);
    return s(path, batch);
  };
  await core.handle([{ body: codec.encodeBatch([tweet('x')]), ref: 0 }, one(tweet('y'))]);
  assert.deepEqual(
    items.map((t) => t.id),
    ['x', 'y'],
  );
  assert.equal(items[1]!.json, codec.json(tweet('y')));
});

test('poison is dead-lettered with its reason before the batch resolves; an invalid item of a batch goes alone', async () => {
  const { core, dlq } = setup();
  const batch = Buffer.from(JSON.stringify([tweet('g'), { ...tweet('h'), humidity: 101 }]));
  await core.handle([
    { body: Buffer.from('not json'), messageId: 'm1', ref: 0 },
    { body: batch, contentType: weather.broker.batchContentType, messageId: 'm2', ref: 1 },
    { body: Buffer.from('{"id":"z","municipality":"mixco"}'), messageId: 'm3', ref: 2 },
  ]);
  assert.deepEqual(
    dlq.map((p) => [p.messageId, p.delivery.ref]),
    [
      ['m1', 0],
      ['m2#1', 1],
      ['m3', 2],
    ],
  );
  assert.match(dlq[0]!.reason, /not JSON/);
  assert.match(dlq[1]!.reason, /^tweet 1 of a batch: humidity must be from 0 to 100/);
  assert.deepEqual(JSON.parse(dlq[1]!.body.toString()), { ...tweet('h'), humidity: 101 });
  assert.match(dlq[2]!.reason, /required/);
  assert.deepEqual(core.counts, { applied: 1, duplicates: 0, deadLettered: 3 });
});

test('items are applied in round trips of at most batchMax', async () => {
  const { store, core } = setup({ batchMax: 2 });
  await core.handle(['1', '2', '3', '4', '5'].map((id) => one(tweet(id))));
  assert.deepEqual(
    store.calls.map((c) => c.ids),
    [['1', '2'], ['3', '4'], ['5']],
  );
});

test('a Valkey outage is retried until it ends; the batch resolves only once applied', async () => {
  const { store, core } = setup();
  store.failNext(2);
  await core.handle([one(tweet('r'))]);
  assert.deepEqual(
    store.calls.map((c) => c.ids),
    [['r']],
  );
  assert.equal(core.counts.applied, 1);
});

test('nothing of a batch may be acked when the dead-letter queue fails, or Valkey is down while stopping', async () => {
  const failing = setup({ deadLetter: async () => Promise.reject(new Error('dlq unavailable')) });
  await assert.rejects(failing.core.handle([one(tweet('ok')), { body: Buffer.from('x'), ref: 0 }]), /dlq unavailable/);
  assert.deepEqual(failing.store.calls, [], 'nothing applied before the poison was safe');
  const stopping = setup({ stopping: () => true });
  stopping.store.failNext(1);
  await assert.rejects(stopping.core.handle([one(tweet('s'))]), /valkey is down/);
});
