import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weather } from '@tweets/domain';
import { aggregateKeys, applyKeys, pathKey, seenKey } from '../src/keys.js';

test('every key of a path carries the path as its hash tag', () => {
  for (const path of ['kafka', 'rabbitmq'] as const) {
    const keys = applyKeys(weather, 'wt', path, [{ id: 'abc' }, { id: 'def' }]);
    assert.equal(keys.length, 13);
    for (const k of keys) assert.ok(k.startsWith(`wt:{${path}}:`), k);
  }
});

test('the two paths never share a key', () => {
  const t = [{ id: 'same-id' }];
  const a = new Set(applyKeys(weather, 'wt', 'kafka', t));
  for (const k of applyKeys(weather, 'wt', 'rabbitmq', t)) assert.ok(!a.has(k), k);
});

test('keys are the documented names, in the apply script\'s order', () => {
  assert.deepEqual(applyKeys(weather, 'wt', 'kafka', [{ id: 'id-1' }, { id: 'id-2' }]), [
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
    'wt:{kafka}:seen:id-1',
    'wt:{kafka}:seen:id-2',
  ]);
  assert.equal(pathKey('bf', 'rabbitmq', 'total'), 'bf:{rabbitmq}:total');
  assert.equal(seenKey('wt', 'kafka', 'id-1'), 'wt:{kafka}:seen:id-1');
  assert.equal(aggregateKeys(weather, 'wt', 'kafka').length, 11, 'three per path, two per municipality');
});
