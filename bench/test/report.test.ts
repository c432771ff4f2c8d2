import { test } from 'node:test';
import assert from 'node:assert/strict';
import { midpoint } from '../src/bench.js';
import { ceilingOf, judgeTargets } from '../src/report.js';

test('the ceiling is the cores over the sum of the floors a scenario uses', () => {
  const c = ceilingOf({ rate: 1000, batch: 50, us: { rabbitmq: 60, kafka: 20, valkey: 10 }, http: { bare: 80, loadgen: 30 } }, 2);
  assert.deepEqual(c.usPerTweet, { fanout: 210, kafkaOnly: 140, rabbitmqOnly: 180 });
  assert.equal(c.fanout, 9520);
  assert.equal(c.kafkaOnly, 14280);
  assert.equal(c.rabbitmqOnly, 11110);
});

test('each target is judged on its bound, and an unmeasured value does not meet it', () => {
  const base = { ratioToBare: 0.5, ratioToNaive: 12, p99At5000Ms: 50 as number | null };
  const seed = (throughput: number, p99Ms: number, idleP50Ms: number) => ({
    seedLoad: { clients: 10, tweets: 10_000, throughput, p50Ms: 1, p99Ms },
    seedLoads: { idle: { p50Ms: idleP50Ms } } as never,
  });
  const judge = (fanout: Partial<typeof base> & { maxRate: number }, rss = 249, s: ReturnType<typeof seed> | null = seed(2500, 20, 4)) =>
    Object.fromEntries(
      judgeTargets({
        fanout: { ...base, ...fanout } as never,
        nodeServicePeakRssMb: rss,
        seedLoad: s?.seedLoad ?? null,
        seedLoads: s?.seedLoads ?? null,
      }).map((t) => [t.name, t.met]),
    );
  assert.deepEqual(judge({ maxRate: 10_000 }), {
    'fanout.maxRate': true,
    'fanout.ratioToBare': true,
    'fanout.p99At5000Ms': true,
    'fanout.ratioToNaive': true,
    nodeServicePeakRssMb: true,
    'idle.p50Ms': true,
    'seedLoad.throughput': true,
    'seedLoad.p99Ms': true,
  });
  assert.equal(Object.values(judge({ maxRate: 10_000 }, 249, seed(2490, 20.1, 4.1))).filter((met) => !met).length, 3);
  assert.equal(Object.values(judge({ maxRate: 10_000 }, 249, null)).filter((met) => !met).length, 3, 'a seed load not run meets nothing');
  const failing = judge({ maxRate: 9_990, ratioToBare: 0.34, p99At5000Ms: null, ratioToNaive: 4.9 }, 250, seed(100, 99, 9));
  assert.ok(
    Object.values(failing).every((met) => !met),
    JSON.stringify(failing),
  );
});

test('refinement steps are round figures within the gap (the scan stops rather than rerun an end)', () => {
  assert.equal(midpoint(3000, 4000), 3500);
  assert.equal(midpoint(4000, 5000), 4500);
  assert.equal(midpoint(4000, 4500), 4300);
  assert.equal(midpoint(200, 300), 250);
  assert.equal(midpoint(50, 100), 80);
  for (const [lo, hi] of [
    [200, 300],
    [50, 100],
    [4000, 4300],
    [100, 110],
  ] as const) {
    const m = midpoint(lo, hi);
    assert.ok(m >= lo && m <= hi);
  }
});
