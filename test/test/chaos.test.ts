import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QUICK_FAULTS, runChaos } from '@tweets/stack/chaos';
import { stack } from './helpers.js';

// The short variant of `npm run chaos`: 20,000 tweets at up to 1,000/s while a
// consumer and a writer are killed and Kafka and Valkey restart. It runs last:
// it restarts the stack's brokers.
test('under faults: every distinct tweet counted exactly once on each path', { timeout: 600_000 }, async () => {
  const report = await runChaos(stack, {
    count: 20_000,
    rate: 1000,
    concurrency: 200,
    faults: QUICK_FAULTS,
    gapMs: 2000,
    log: (m) => console.log(`# ${m}`),
  });
  console.log(`# ${JSON.stringify({ load: report.load, totals: report.totals, rows: report.rows.map((r) => [r.fault, r.recoverSec, r.clientErrors]) })}`);
  assert.equal(report.load.failed, 0, 'every tweet was accepted in the end');
  assert.equal(report.rows.length, QUICK_FAULTS.length, 'every fault was injected during the load');
  for (const p of ['kafka', 'rabbitmq'] as const) {
    assert.equal(report.totals.lost[p], 0, `${p} lost`);
    assert.equal(report.totals.duplicated[p], 0, `${p} duplicated`);
    assert.equal(report.totals.counted[p], report.load.sent, `${p} counted`);
    assert.ok(report.breakdownMatches[p], `${p} per (municipality, weather)`);
  }
  assert.ok(report.passed);
});
