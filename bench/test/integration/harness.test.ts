import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ceilingOf, IDLE_TWEETS, judgeTargets, runBench } from '@tweets/bench';
import { tempDir } from '@tweets/stack';

// A few seconds of the benchmark harness: the bare ceiling, fan-out and the
// floors against the running test stack, two short steps each. It checks that
// the results are well formed and agree with themselves (each step judged by
// the criteria it records, maxRate the highest passing step, the ratios and
// targets computed from them), never whether a rate passed: that depends on
// the machine. The timeout only guards against a hang.
test('the bench harness produces well-formed, self-consistent results', { timeout: 900_000 }, async () => {
  const outDir = tempDir('bench-');
  const { results, files } = await runBench({
    quick: true,
    stepSec: 1,
    rampSec: 0,
    rates: { bare: [50, 100], pipeline: [50, 100], naive: [] },
    refine: 0,
    warmupSec: 2,
    floorSec: 1,
    floorRepeats: 1,
    scenarios: ['bare', 'fanout'],
    seedLoad: { clients: 3, tweets: 60 },
    stack: process.env.STACK ?? 'test',
    manageStack: false,
    outDir,
    log: (m) => console.log(`# ${m}`),
  });
  const latest = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8'));
  assert.deepEqual(latest, JSON.parse(JSON.stringify(results)));
  for (const k of ['bare', 'naive', 'fanout', 'fanoutWriters2', 'fanoutApis1', 'fanoutApis2', 'fanoutApis3', 'kafkaOnly', 'rabbitmqOnly']) {
    for (const f of ['maxRate', 'p50Ms', 'p99Ms']) assert.ok(f in latest[k], `${k}.${f}`);
  }
  const { p99MaxMs } = latest.criteria;
  for (const k of ['bare', 'fanout'] as const) {
    const sc = latest[k];
    // Both rates ran: the scan stops at a failing rate, so a second step means the first passed.
    assert.deepEqual(
      sc.steps.map((s: { rate: number }) => s.rate),
      sc.steps[0].passed ? [50, 100] : [50],
      `${k} steps`,
    );
    for (const s of sc.steps) {
      assert.equal(s.sent, s.rate, `${k} ${s.rate}/s: one second at the rate`);
      assert.equal(s.ok + s.non2xx + s.errors, s.sent, `${k} ${s.rate}/s: every request has an outcome`);
      assert.ok(s.p50Ms > 0 && s.p50Ms <= s.p90Ms && s.p90Ms <= s.p99Ms && s.p99Ms <= s.maxMs, `${k} ${s.rate}/s: percentiles in order`);
      assert.equal(s.maxBySecondMs.length, 1);
      // Each step's verdict follows from what it recorded.
      const meets = s.ok === s.sent && s.p99Ms <= p99MaxMs && (k === 'bare' || s.countedWithinMs !== null);
      assert.equal(s.passed, meets, `${k} ${s.rate}/s: verdict ${s.passed} against ${JSON.stringify(s)}`);
      assert.equal(s.reason === '', s.passed, `${k} ${s.rate}/s: a failed step says why`);
    }
    const passing = sc.steps.filter((s: { passed: boolean }) => s.passed);
    const top = passing.at(-1);
    assert.equal(sc.maxRate, top?.rate ?? 0, `${k}: maxRate is the highest passing rate`);
    assert.equal(sc.p50Ms, top?.p50Ms ?? null);
    assert.equal(sc.p99Ms, top?.p99Ms ?? null);
  }
  const ratio = (a: number, b: number) => (b ? Math.round((a / b) * 100) / 100 : 0);
  assert.equal(latest.fanout.ratioToBare, ratio(latest.fanout.maxRate, latest.bare.maxRate));
  assert.ok(latest.machine.cores >= 1 && latest.machine.cpuModel);
  assert.ok(latest.fanout.peakRssMb['ingest-api'] > 0);
  assert.ok(latest.fanout.peakRssMb['kafka'] > 0);
  assert.ok(latest.nodeServicePeakRssMb > 0 && latest.nodeServicePeakRssMb < 1000);
  if (latest.fanout.maxRate > 0) assert.ok(latest.fanout.processes['ingest-api'].cpuSecPer1000 >= 0);
  // The floors were measured at the fan-out's top passing rate (its first rate if none passed), each component on its own.
  assert.equal(latest.floors.rate, latest.fanout.maxRate || 50);
  // At 50-100/s for a second, a cheap component may use less than one 10 ms clock tick: zero is a valid reading.
  for (const k of ['rabbitmq', 'kafka', 'valkey'] as const)
    assert.ok(Number.isFinite(latest.floors.us[k]) && latest.floors.us[k] >= 0, `floor of ${k}`);
  assert.ok(latest.floors.us.rabbitmq + latest.floors.us.kafka > 0, 'the brokers cost something');
  assert.ok(latest.floors.http.bare > 0 && latest.floors.http.loadgen > 0);
  assert.deepEqual(latest.ceiling, ceilingOf(latest.floors, latest.machine.cores));
  assert.equal(latest.fanout.ratioToCeiling, ratio(latest.fanout.maxRate, latest.ceiling.fanout));
  // The seed's closed-loop load: every tweet accepted and counted, each hop measured by the services themselves.
  const { idle, seed, bare } = latest.seedLoads;
  assert.deepEqual(latest.seedLoad, { clients: 3, tweets: 60, throughput: seed.throughput, p50Ms: seed.p50Ms, p99Ms: seed.p99Ms });
  assert.equal(idle.clients, 1);
  for (const [name, r, n] of [
    ['idle', idle, IDLE_TWEETS],
    ['seed', seed, 60],
  ] as const) {
    assert.equal(r.accepted, n, `${name}: every tweet accepted`);
    assert.notEqual(r.countedWithinMs, null, `${name}: counted on both paths`);
    assert.ok(r.p50Ms > 0 && r.p50Ms <= r.p99Ms && r.p99Ms <= r.maxMs, `${name}: percentiles in order`);
    assert.equal(r.hops.client.calls, n);
    // Other tests may post to the same stack meanwhile: a hop saw at least this run's calls.
    assert.ok(r.hops.api.calls >= n, `${name}: the API's histogram counted every request`);
    for (const hop of [
      'api→dispatcher',
      'dispatcher',
      'dispatcher→writer-kafka',
      'kafka ack',
      'dispatcher→writer-rabbitmq',
      'rabbitmq ack',
    ]) {
      assert.ok(r.hops[hop].calls > 0 && r.hops[hop].meanMs > 0, `${name}: ${hop} measured (${JSON.stringify(r.hops[hop])})`);
    }
    assert.ok(r.cpuSecPer1000['ingest-api'] >= 0 && r.cpuSecPer1000['load client'] > 0);
  }
  assert.equal(bare.accepted, 60);
  assert.ok(bare.cpuSecPer1000['load client'] > 0);
  assert.deepEqual(latest.targets, judgeTargets(latest));
  assert.equal(latest.targets.find((t: { name: string }) => t.name === 'fanout.maxRate').met, false, 'at most 100/s is not 10,000/s');
  const md = readFileSync(files[1]!, 'utf8');
  assert.match(md, new RegExp(`Targets: fanout\\.maxRate >= 10000: ${latest.fanout.maxRate} \\(not met\\)`));
  assert.match(md, new RegExp(`\\| fanout \\| .* \\| ${latest.fanout.maxRate} \\|`));
  assert.match(md, new RegExp(`Floors, CPU µs per tweet at ${latest.floors.rate}/s`));
  assert.match(md, /\| kafka ack \| [\d.]+ ms \(\d+ calls\) \| [\d.]+ ms \(\d+ calls\) \|/);
  const svg = readFileSync(files[2]!, 'utf8');
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>$/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 4, 'p50 and p99 lines for the two scenarios run');
});
