import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pingPong } from '../experiments/pingpong.js';

test('the ping-pong measures each round trip with one and with ten in flight, and the CPU of both sides', async () => {
  const rs = await pingPong(500);
  assert.deepEqual(
    rs.map((r) => [r.inFlight, r.roundTrips]),
    [
      [1, 500],
      [10, 500],
    ],
  );
  for (const r of rs) {
    assert.ok(r.perSec > 0, JSON.stringify(r));
    // CPU is read in 10 ms clock ticks: a short run may read zero on one side, never a negative or NaN.
    assert.ok(Number.isFinite(r.clientUs) && r.clientUs >= 0 && Number.isFinite(r.serverUs) && r.serverUs >= 0, JSON.stringify(r));
  }
});
