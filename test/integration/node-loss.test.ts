import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, stopStack } from '@tweets/stack';
import { QUICK_NODE_LOSS_FAULTS, runChaos } from '@tweets/stack/chaos';
import { stack } from './helpers.js';

// The short variant of `npm run chaos -- --replicated`: the test stack started again with Kafka on three
// nodes (replication factor 3, in-sync minimum 2) and RabbitMQ on three (the tweet queue a quorum queue with
// a member on each) and Valkey a primary and a replica watched by three sentinels; then under load the node
// leading the tweet topic and the node leading the tweet queue are SIGKILLed, and Valkey's primary frozen
// until the sentinels promote the replica. It runs after the fault test, last: it replaces the stack's brokers. The timeouts
// only guard against a hang.
test(
  "a Kafka node and a RabbitMQ node of three lost, Valkey's primary frozen, under load: every tweet counted exactly once on each path, and the others keep accepting",
  { timeout: 1_800_000 },
  async () => {
    await stopStack(stack);
    await startStack(stack, { replicated: true });
    const report = await runChaos(stack, {
      count: 10_000,
      rate: 1000,
      concurrency: 200,
      faults: QUICK_NODE_LOSS_FAULTS,
      gapTweets: 2000,
      log: (m) => console.log(`# ${m}`),
    });
    console.log(
      `# ${JSON.stringify({ load: report.load, totals: report.totals, rows: report.rows.map((r) => [r.fault, r.recoverSec, r.outageSec, r.clientErrors]) })}`,
    );
    assert.equal(report.rows.length, QUICK_NODE_LOSS_FAULTS.length, 'the fault was injected during the load');
    const [kafka, rabbitmq, valkey] = report.rows;
    for (const row of report.rows) assert.ok(row.recovered, `${row.fault}: the stack recovered`);
    assert.match(kafka!.fault, /^SIGKILL kafka(-[23])? \(kafka-leader\)$/, 'a Kafka node, the leader, was killed');
    assert.match(rabbitmq!.fault, /^SIGKILL rabbitmq(-[23])? \(rabbitmq-leader\)$/, 'a RabbitMQ node, the leader, was killed');
    assert.match(
      valkey!.fault,
      /^SIGSTOP \d+ s valkey(-2)? \(valkey-primary\)$/,
      "Valkey's primary was frozen past the sentinels' timeout",
    );
    assert.equal(report.load.failed, 0, 'every tweet was accepted in the end');
    for (const p of ['kafka', 'rabbitmq'] as const) {
      assert.equal(report.totals.lost[p], 0, `${p} lost`);
      assert.equal(report.totals.duplicated[p], 0, `${p} duplicated`);
      assert.equal(report.totals.counted[p], report.load.sent, `${p} counted`);
    }
    assert.ok(report.passed);
  },
);
