// A throwaway primary and replica on their own ports (bench/src/replica.ts): integration, since it runs Valkey.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REPLICA_CASES, runReplicaBench } from '@tweets/bench';

test('Valkey alone, with a replica, and waiting for it: every batch applied, and the replica ends with the same counts', async () => {
  const rs = await runReplicaBench({ batchSizes: [5], batches: 40, inFlight: 2 });
  assert.deepEqual(
    rs.map((r) => r.case),
    [...REPLICA_CASES],
  );
  for (const r of rs) {
    assert.equal(r.tweets, 200);
    assert.ok(r.tweetsPerSec > 0 && r.p99Ms >= r.p50Ms && r.p50Ms > 0, JSON.stringify(r));
    if (r.case === 'alone') assert.equal(r.replicaMatches, null);
    else assert.equal(r.replicaMatches, true, `${r.case}: the replica holds the primary's counts`);
  }
});
