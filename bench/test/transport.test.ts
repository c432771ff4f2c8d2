import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTransports, TRANSPORTS } from '../src/transport.js';

test('each transport delivers every tweet of every batch to the other process, decoded and checked, and is measured', async () => {
  const rs = await runTransports({ batchSizes: [1, 7], inFlight: 3, tweets: 210 });
  assert.deepEqual(
    rs.map((r) => [r.transport, r.batchSize]),
    [1, 7].flatMap((b) => TRANSPORTS.map((t) => [t, b])),
  );
  for (const r of rs) {
    assert.equal(r.tweets, 210, JSON.stringify(r));
    assert.equal(r.received, r.tweets, `${r.transport}: the server counted every tweet sent`);
    assert.equal(r.batches, 210 / r.batchSize);
    assert.ok(r.tweetsPerSec > 0 && r.p50Ms > 0 && r.p99Ms >= r.p50Ms, JSON.stringify(r));
    assert.ok(
      Number.isFinite(r.clientUsPerTweet) && r.clientUsPerTweet >= 0 && Number.isFinite(r.serverUsPerTweet) && r.serverUsPerTweet >= 0,
      JSON.stringify(r),
    );
  }
});
