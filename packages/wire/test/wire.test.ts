import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weather, type Tweet } from '@tweets/domain';
import { encodeSeq } from '../src/codec.js';
import { contract, writerServiceDefinition } from '../src/index.js';

const c = contract(weather);
const loader = c.service;
const SERVICE_NAME = c.serviceName;
const { encodeRequest, encodeBatch, decodeRequest, decodeBatch } = c.codec;

test('the service keeps the seed name, package and rpc', () => {
  assert.equal(SERVICE_NAME, 'wethertweet.WeatherTweetService');
  assert.equal(loader.SendTweet!.path, '/wethertweet.WeatherTweetService/SendTweet');
});

test('the seed message encodes with the seed field numbers; id is field 5', () => {
  const t: Tweet = { municipality: 'mixco', temperature: 25, humidity: 60, weather: 'sunny', id: 'k1' };
  // field 1 varint 1 (mixco), field 2 varint 25, field 3 varint 60, field 4 varint 1 (sunny), field 5 "k1"
  const expected = [0x08, 1, 0x10, 25, 0x18, 60, 0x20, 1, 0x2a, 2, 0x6b, 0x31];
  assert.deepEqual([...loader.SendTweet!.requestSerialize(t)], expected);
  assert.deepEqual([...encodeRequest(t)], expected);
});

/** Tweets that reach the codec's edge cases: negative and zero numbers, the bounds, long ids. */
function samples(): Tweet[] {
  const out: Tweet[] = [];
  const ms = ['mixco', 'guatemala', 'amatitlan', 'chinautla'] as const;
  const ws = ['sunny', 'cloudy', 'rainy', 'foggy'] as const;
  const temps = [-50, -1, 0, 1, 59, 60, -17, 127, 128].filter((x) => x <= 60);
  let i = 0;
  for (const temperature of temps) {
    for (const humidity of [0, 1, 50, 100]) {
      out.push({
        id: `id-${i}-${'x'.repeat(i % 130 > 120 ? 100 : i % 130)}`.slice(0, 128),
        municipality: ms[i % 4]!,
        weather: ws[(i >> 2) % 4]!,
        temperature,
        humidity,
      });
      i++;
    }
  }
  return out;
}

test("the direct codec and the proto loader read each other's bytes; without zero values the bytes are the same", () => {
  // proto3 encoders may leave zero values out (Go, C++, ours) or write them (protobufjs); both read the same.
  for (const t of samples()) {
    const ours = encodeRequest(t);
    const theirs = loader.SendTweet!.requestSerialize(t);
    if (t.temperature !== 0 && t.humidity !== 0) assert.deepEqual([...ours], [...theirs], JSON.stringify(t));
    assert.deepEqual(loader.SendTweet!.requestDeserialize(ours), t);
    assert.deepEqual(
      decodeRequest(ours, () => 'unused'),
      { ok: true, value: t },
    );
    assert.deepEqual(
      decodeRequest(theirs, () => 'unused'),
      { ok: true, value: t },
    );
  }
  const batch = samples();
  assert.deepEqual(loader.SendTweets!.requestDeserialize(encodeBatch(batch)), { tweets: batch, seq: 0 });
  assert.deepEqual(decodeBatch(loader.SendTweets!.requestSerialize({ tweets: batch })), { ok: true, value: batch, seq: 0 });
  assert.deepEqual(decodeBatch(encodeBatch(batch)), { ok: true, value: batch, seq: 0 });
  assert.deepEqual(decodeBatch(Buffer.alloc(0)), { ok: true, value: [], seq: 0 });
  // A batch numbered for SendTweetStream: the seq appended to the encoded batch, read back by both decoders.
  for (const seq of [1, 127, 128, 300, 2 ** 40 + 5]) {
    const numbered = Buffer.concat([encodeBatch(batch), encodeSeq(seq)]);
    assert.deepEqual(decodeBatch(numbered), { ok: true, value: batch, seq });
    assert.deepEqual(loader.SendTweetStream!.requestDeserialize(numbered), { tweets: batch, seq });
  }
});

test('the codec reads what other encoders may write: any field order, unknown fields, repeated fields', () => {
  // weather, id, unknown field 9 (varint), humidity, municipality, temperature -3 (10-byte varint)
  const bytes = Buffer.from([
    0x20, 3, 0x2a, 1, 0x61, 0x48, 7, 0x18, 5, 0x08, 2, 0x10, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
  ]);
  assert.deepEqual(
    decodeRequest(bytes, () => 'unused'),
    { ok: true, value: { id: 'a', municipality: 'guatemala', temperature: -3, humidity: 5, weather: 'rainy' } },
  );
});

test('a request from a seed client (no id) gets one; zero values and bad numbers are refused with the field named', () => {
  const seed = loader.SendTweet!.requestSerialize({ municipality: 'chinautla', temperature: -3, humidity: 100, weather: 'foggy' });
  assert.deepEqual(
    decodeRequest(seed, () => 'made'),
    { ok: true, value: { id: 'made', municipality: 'chinautla', temperature: -3, humidity: 100, weather: 'foggy' } },
  );
  const bad = decodeRequest(
    loader.SendTweet!.requestSerialize({
      municipality: 'municipalities_unknown',
      temperature: 25,
      humidity: 160,
      weather: 'weathers_unknown',
      id: 'x',
    }),
    () => 'y',
  );
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['humidity', 'municipality', 'weather']);
    assert.match(bad.message, /humidity must be from 0 to 100; got 160/);
  }
  const badId = decodeRequest(
    encodeRequest({ id: 'has space', municipality: 'mixco', temperature: 1, humidity: 1, weather: 'sunny' }),
    () => 'y',
  );
  assert.equal(badId.ok, false);
});

test('a batch is refused whole, naming each bad tweet by index; ids are required in a batch', () => {
  const good: Tweet = { id: 'g', municipality: 'mixco', temperature: 1, humidity: 2, weather: 'rainy' };
  const bytes = loader.SendTweets!.requestSerialize({ tweets: [good, { ...good, id: '' }, { ...good, temperature: 61 }] });
  const d = decodeBatch(bytes);
  assert.equal(d.ok, false);
  if (!d.ok)
    assert.deepEqual(
      d.errors.map((e) => e.field),
      ['tweets[1].id', 'tweets[2].temperature'],
    );
  assert.equal(decodeBatch(encodeBatch([good, good, good]), 2).ok, false, 'more than the limit');
});

test('malformed bytes are refused, never thrown', () => {
  const bytes = encodeBatch([{ id: 'abc', municipality: 'mixco', temperature: 1, humidity: 2, weather: 'rainy' }]);
  for (let cut = 1; cut < bytes.length; cut++) assert.equal(decodeBatch(bytes.subarray(0, cut)).ok, false, `cut at ${cut}`);
  assert.equal(decodeBatch(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])).ok, false);
  assert.equal(decodeRequest(Buffer.from([0x0f]), () => 'x').ok, false, 'wire type 7');
});

test("the writer's service definition keeps the seed paths and the batch rpc beside them", () => {
  const def = writerServiceDefinition(c, () => 'id');
  assert.equal(def.SendTweet!.path, '/wethertweet.WeatherTweetService/SendTweet');
  assert.equal(def.SendTweets!.path, '/wethertweet.WeatherTweetService/SendTweets');
  assert.equal(def.SendTweetStream!.path, '/wethertweet.WeatherTweetService/SendTweetStream');
  assert.ok(def.SendTweetStream!.requestStream && def.SendTweetStream!.responseStream);
});
