import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyWindow } from '../src/window.js';

test('a window reports count, p50, p99 and max, then starts empty', () => {
  const w = new LatencyWindow();
  for (let i = 1; i <= 1000; i++) w.record(i / 10);
  assert.deepEqual(w.take(), { count: 1000, p50Ms: 50.1, p99Ms: 99.1, maxMs: 100 });
  assert.equal(w.take(), undefined);
});

test('past its sample size it keeps counting and the true max, with percentiles from a sample', () => {
  const w = new LatencyWindow(100);
  for (let i = 0; i < 10_000; i++) w.record(i % 2 === 0 ? 1 : 3);
  w.record(500);
  const r = w.take()!;
  assert.equal(r.count, 10_001);
  assert.equal(r.maxMs, 500);
  assert.ok(r.p50Ms === 1 || r.p50Ms === 3);
});
