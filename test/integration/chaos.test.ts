import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QUICK_FAULTS, runChaos } from '@tweets/stack/chaos';
import { stack } from './helpers.js';

// The short variant of `npm run chaos`: at least 20,000 tweets at up to 1,000/s
// while a consumer, a writer and RabbitMQ are killed (SIGKILL) and Kafka and
// Valkey restart. Faults
// are scheduled by progress (every 2,000 accepted tweets after the last
// recovery) and the load runs until all have recovered, so each fault hits a
// live load whatever the machine's speed. It runs last: it restarts the
// stack's brokers. The timeout only guards against a hang.
test('under faults: every distinct tweet counted exactly once on each path', { timeout: 1_800_000 }, async () => {
  const report = await runChaos(stack, {
    count: 20_000,
    rate: 1000,
    concurrency: 200,
    faults: QUICK_FAULTS,
    gapTweets: 2000,
    log: (m) => console.log(`# ${m}`),
  });
  console.log(
    `# ${JSON.stringify({ load: report.load, totals: report.totals, rows: report.rows.map((r) => [r.fault, r.recoverSec, r.clientErrors]) })}`,
  );
  assert.equal(report.load.failed, 0, 'every tweet was accepted in the end');
  assert.equal(report.rows.length, QUICK_FAULTS.length, 'every fault was injected during the load');
  for (const r of report.rows) {
    assert.ok(r.recovered, `${r.fault}: the stack recovered`);
    assert.ok(r.window.to > r.window.from, `${r.fault}: tweets were sent after it`);
  }
  assert.ok(report.load.sent >= 20_000, `at least the requested count was sent: ${report.load.sent}`);
  for (const p of ['kafka', 'rabbitmq'] as const) {
    assert.equal(report.totals.lost[p], 0, `${p} lost`);
    assert.equal(report.totals.duplicated[p], 0, `${p} duplicated`);
    assert.equal(report.totals.counted[p], report.load.sent, `${p} counted`);
    assert.ok(report.breakdownMatches[p], `${p} per (municipality, weather)`);
  }
  assert.ok(report.passed);
});
