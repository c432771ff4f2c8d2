import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from '../src/bench.js';

// A few seconds of the benchmark harness: the bare ceiling and fan-out against
// the running test stack, two short steps each. It checks the results are well
// formed, not how fast anything is.
test('the bench harness produces well-formed results', { timeout: 120_000 }, async () => {
  const outDir = mkdtempSync(join(tmpdir(), 'bench-'));
  const { results, files } = await runBench({
    quick: true,
    stepSec: 1,
    rates: [50, 100],
    scenarios: ['bare', 'fanout'],
    stack: process.env.STACK ?? 'test',
    manageStack: false,
    outDir,
    log: (m) => console.log(`# ${m}`),
  });
  const latest = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8'));
  assert.deepEqual(latest, JSON.parse(JSON.stringify(results)));
  for (const k of ['bare', 'naive', 'fanout', 'kafkaOnly', 'rabbitmqOnly']) {
    for (const f of ['maxRate', 'p50Ms', 'p99Ms']) assert.ok(f in latest[k], `${k}.${f}`);
  }
  assert.equal(latest.bare.maxRate, 100, 'the bare endpoint passes 100/s');
  assert.equal(latest.fanout.maxRate, 100, 'the pipeline passes 100/s');
  assert.ok(latest.fanout.p99Ms > 0 && latest.fanout.p99Ms <= 100);
  assert.equal(typeof latest.fanout.ratioToBare, 'number');
  assert.ok(latest.machine.cores >= 1 && latest.machine.cpuModel);
  for (const s of latest.fanout.steps) assert.equal(s.sent, s.rate, 'one second at each rate');
  assert.ok(latest.fanout.processes['ingest-api'].cpuSecPer1000 >= 0);
  assert.ok(latest.fanout.processes['kafka'].peakRssMb > 0);
  const md = readFileSync(files[1]!, 'utf8');
  assert.match(md, /\| fanout \| .* \| 100 \|/);
  const svg = readFileSync(files[2]!, 'utf8');
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>$/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 4, 'p50 and p99 lines for the two scenarios run');
});
