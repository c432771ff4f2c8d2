import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weather } from '@tweets/domain';
import { aggregateKeys, applyKeys, pathKey, seenBuckets } from '../src/keys.js';

const w = { windowSec: 1800, slices: 4 };

test('every key of a path carries the path as its hash tag', () => {
  for (const path of ['kafka', 'rabbitmq'] as const) {
    const keys = applyKeys(weather, 'wt', path, w, 1_800_000_000).keys;
    assert.equal(keys.length, 16);
    for (const k of keys) assert.ok(k.startsWith(`wt:{${path}}:`), k);
  }
});

test('the two paths never share a key', () => {
  const a = new Set(applyKeys(weather, 'wt', 'kafka', w, 1_800_000_000).keys);
  for (const k of applyKeys(weather, 'wt', 'rabbitmq', w, 1_800_000_000).keys) assert.ok(!a.has(k), k);
});

test("keys are the documented names, in the apply script's order", () => {
  assert.deepEqual(applyKeys(weather, 'wt', 'kafka', w, 1_800_000_000).keys, [
    'wt:{kafka}:weather',
    'wt:{kafka}:total',
    'wt:{kafka}:recent',
    'wt:{kafka}:counts:mixco',
    'wt:{kafka}:counts:guatemala',
    'wt:{kafka}:counts:amatitlan',
    'wt:{kafka}:counts:chinautla',
    'wt:{kafka}:agg:mixco',
    'wt:{kafka}:agg:guatemala',
    'wt:{kafka}:agg:amatitlan',
    'wt:{kafka}:agg:chinautla',
    'wt:{kafka}:seen:4000000',
    'wt:{kafka}:seen:3999999',
    'wt:{kafka}:seen:3999998',
    'wt:{kafka}:seen:3999997',
    'wt:{kafka}:seen:3999996',
  ]);
  assert.equal(pathKey('bf', 'rabbitmq', 'total'), 'bf:{rabbitmq}:total');
  assert.equal(aggregateKeys(weather, 'wt', 'kafka').length, 11, 'three per path, two per municipality');
});

test('an id is looked up in the current bucket and the slices before it: remembered the whole window, at most one bucket more', () => {
  const width = 1800 / 4;
  const at = (sec: number) => seenBuckets('wt', 'kafka', w, sec);
  const applied = 1_800_000_000 + 17; // inside bucket 4,000,000
  const bucket = at(applied).keys[0]!;
  // Every later lookup within the window reaches the bucket the id went to.
  for (let later = applied; later <= applied + 1800; later += 37) assert.ok(at(later).keys.includes(bucket), `at +${later - applied} s`);
  // It expires once no lookup reaches it, within one bucket past the window.
  const expireAt = at(applied).expireAt;
  assert.ok(!at(expireAt).keys.includes(bucket));
  assert.ok(at(expireAt - 2).keys.includes(bucket));
  assert.ok(expireAt - applied <= 1800 + width + 1, String(expireAt - applied));
});
