import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weather, type WeatherDomain } from '@tweets/domain';
import { breakdownDelta } from '@tweets/store/stats';
import { fetchStats, runLoad, waitForCounts } from '@tweets/loadgen';
import { entry, k, rolledOut, sleep } from './helpers.js';

/**
 * Faults and changes under load, the way a cluster has them: while a load runs through the ingress (its
 * clients retrying a 503 with the same Idempotency-Key), every service's pod is deleted, then the Valkey
 * primary's, the Kafka broker's and the RabbitMQ node's, every Deployment rolls out a new revision, and
 * the writers scale from 1 to 2 and back. Each step waits for the system to be ready again and for more
 * tweets to be accepted; then every path must have counted every accepted tweet once, in total and per
 * (municipality, weather). Steps follow the load's progress, never the clock.
 */

const STEPS: { name: string; run: () => void; ns: string[] }[] = [
  { name: "every service's pod deleted", run: () => k('-n', 'tweets', 'delete', 'pod', '--all', '--wait=false'), ns: ['tweets'] },
  { name: "the Valkey primary's pod deleted", run: () => k('-n', 'valkey', 'delete', 'pod', 'valkey-0', '--wait=false'), ns: ['valkey'] },
  { name: "the Kafka broker's pod deleted", run: () => k('-n', 'kafka', 'delete', 'pod', 'tweets-dual-0', '--wait=false'), ns: ['kafka'] },
  {
    name: "the RabbitMQ node's pod deleted",
    run: () => k('-n', 'rabbitmq', 'delete', 'pod', 'rabbitmq-server-0', '--wait=false'),
    ns: ['rabbitmq'],
  },
  { name: 'a new revision of every Deployment', run: () => k('-n', 'tweets', 'rollout', 'restart', 'deployment'), ns: ['tweets'] },
  {
    name: 'the writers scaled to 2',
    run: () => k('-n', 'tweets', 'scale', 'deployment', 'writer-kafka', 'writer-rabbitmq', '--replicas=2'),
    ns: ['tweets'],
  },
  {
    name: 'the writers scaled back to 1',
    run: () => k('-n', 'tweets', 'scale', 'deployment', 'writer-kafka', 'writer-rabbitmq', '--replicas=1'),
    ns: ['tweets'],
  },
];

/** Tweets accepted between two steps, after the system is ready again. */
const GAP = 1000;

test(
  'pods deleted, rolled out and scaled under load: every accepted tweet counted once per path and per (municipality, weather)',
  { timeout: 3_600_000 },
  async () => {
    const before = await fetchStats<WeatherDomain>(entry);
    const progress = { sent: 0, accepted: 0, lastAcceptedAt: 0 };
    let done = false;
    const load = runLoad({
      domain: weather,
      url: entry,
      count: 1_000_000,
      concurrency: 20,
      rate: 200,
      idPrefix: `cluster-faults-${Date.now()}`,
      retry: { maxTotalMs: 300_000 },
      timeoutMs: 5000,
      maxDurationMs: 3_000_000,
      progress,
      stop: () => done,
    });
    const accepted = async (n: number) => {
      for (const until = Date.now() + 600_000; progress.accepted < n; await sleep(100))
        if (Date.now() > until) throw new Error(`fewer than ${n} tweets accepted`);
    };
    await accepted(GAP);
    for (const s of STEPS) {
      const t0 = Date.now();
      s.run();
      await sleep(2000);
      for (const ns of s.ns) rolledOut(ns);
      const ready = Date.now();
      await accepted(progress.accepted + GAP);
      console.log(`# ${s.name}: ready again in ${((ready - t0) / 1000).toFixed(1)} s; ${progress.accepted} accepted so far`);
    }
    done = true;
    const result = await load;
    assert.equal(result.failed, 0, `every tweet was accepted in the end: ${JSON.stringify(result.errors)}`);
    const { reached } = await waitForCounts<WeatherDomain>(
      entry,
      before,
      Object.fromEntries(weather.paths.map((p) => [p, result.accepted])),
      600_000,
    );
    assert.ok(reached, `both paths counted the ${result.accepted} accepted tweets`);
    await sleep(2000);
    const after = await fetchStats<WeatherDomain>(entry);
    for (const p of weather.paths) {
      assert.equal(after.paths[p].total - before.paths[p].total, result.accepted, `${p}: each accepted tweet counted once`);
      assert.deepEqual(
        breakdownDelta(weather, before.paths[p], after.paths[p]),
        result.accepted_breakdown,
        `${p}: per (municipality, weather)`,
      );
    }
    console.log(`# ${result.accepted} tweets, ${result.retried} retried after a 503 or no answer`);
  },
);
