import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyKeys, countsKeys, pathKey } from '../src/keys.js';

test('every key of a path carries the path as its hash tag', () => {
  for (const path of ['kafka', 'rabbitmq'] as const) {
    const keys = applyKeys('wt', path, { id: 'abc', municipality: 'mixco' });
    assert.equal(keys.length, 8);
    for (const k of keys) assert.ok(k.startsWith(`wt:{${path}}:`), k);
  }
});

test('the two paths never share a key', () => {
  const t = { id: 'same-id', municipality: 'guatemala' as const };
  const a = new Set(applyKeys('wt', 'kafka', t));
  for (const k of applyKeys('wt', 'rabbitmq', t)) assert.ok(!a.has(k), k);
});

test('keys are the documented names', () => {
  assert.deepEqual(applyKeys('wt', 'kafka', { id: 'id-1', municipality: 'amatitlan' }), [
    'wt:{kafka}:seen:id-1',
    'wt:{kafka}:counts:amatitlan',
    'wt:{kafka}:weather',
    'wt:{kafka}:total',
    'wt:{kafka}:agg:amatitlan',
    'wt:{kafka}:recent',
    'wt:{kafka}:tput',
    'wt:{kafka}:tput:idx',
  ]);
  assert.equal(pathKey('bf', 'rabbitmq', 'total'), 'bf:{rabbitmq}:total');
  assert.deepEqual(Object.keys(countsKeys('wt', 'kafka')), ['mixco', 'guatemala', 'amatitlan', 'chinautla']);
});
