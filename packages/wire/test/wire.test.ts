import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromRequest, SERVICE_NAME, toRequest, WeatherTweetService } from '../src/index.js';

test('the service keeps the seed name, package and rpc', () => {
  assert.equal(SERVICE_NAME, 'wethertweet.WeatherTweetService');
  const rpc = WeatherTweetService.service.SendTweet!;
  assert.equal(rpc.path, '/wethertweet.WeatherTweetService/SendTweet');
});

test('the seed message encodes with the seed field numbers; id is field 5', () => {
  const rpc = WeatherTweetService.service.SendTweet!;
  const bytes = rpc.requestSerialize({ municipality: 'mixco', temperature: 25, humidity: 60, weather: 'sunny', id: 'k1' });
  // field 1 varint 1 (mixco), field 2 varint 25, field 3 varint 60, field 4 varint 1 (sunny), field 5 "k1"
  assert.deepEqual([...bytes], [0x08, 1, 0x10, 25, 0x18, 60, 0x20, 1, 0x2a, 2, 0x6b, 0x31]);
  assert.deepEqual(rpc.requestDeserialize(bytes), { municipality: 'mixco', temperature: 25, humidity: 60, weather: 'sunny', id: 'k1' });
});

test('a request from a seed client (no id) gets one; zero values are refused', () => {
  const ok = fromRequest({ municipality: 'chinautla', temperature: -3, humidity: 100, weather: 'foggy', id: '' }, () => 'made');
  assert.deepEqual(ok, { ok: true, value: { id: 'made', municipality: 'chinautla', temperature: -3, humidity: 100, weather: 'foggy' } });
  const bad = fromRequest({ municipality: 'municipalities_unknown', temperature: 25, humidity: 60, weather: 'weathers_unknown', id: 'x' }, () => 'y');
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['municipality', 'weather']);
  const t = { id: 'a', municipality: 'mixco', temperature: 1, humidity: 2, weather: 'rainy' } as const;
  assert.deepEqual(fromRequest(toRequest(t), () => 'unused'), { ok: true, value: t });
});

test('the batch rpc stands beside the seed rpc', () => {
  assert.equal(WeatherTweetService.service.SendTweets!.path, '/wethertweet.WeatherTweetService/SendTweets');
  assert.equal(WeatherTweetService.service.SendTweet!.path, '/wethertweet.WeatherTweetService/SendTweet');
});
