import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiScaling, charts, fill, latestRun, median, sections, type ReportRun } from '../src/techreport.js';
import type { ScenarioResult } from '../src/report.js';
import { tempDir } from '@tweets/stack';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const scaling = { requestMillicores: 100, targetPercent: 30, minReplicas: 1, maxReplicas: 3 };

/** A scenario passing 1,000 and 5,000/s and failing 9,000/s, its CPU per 1,000 tweets split over two processes. */
function scenario(name: string, maxRate: number, cpu: Record<string, number>): ScenarioResult {
  const step = (rate: number, passed: boolean) => ({
    rate,
    durationMs: 30_000,
    sent: rate * 30,
    ok: rate * 30,
    non2xx: 0,
    errors: 0,
    achievedRate: rate,
    p50Ms: rate / 1000,
    p90Ms: rate / 500,
    p99Ms: rate / 100,
    maxMs: 200,
    maxBySecondMs: [],
    passed,
    reason: passed ? '' : 'p99',
    countedWithinMs: 10,
    cpuSecPer1000: cpu,
  });
  return {
    name,
    description: name,
    maxRate,
    p50Ms: 5,
    p99Ms: 50,
    steps: [step(1000, true), step(5000, true), step(9000, false)],
    processes: Object.fromEntries(Object.entries(cpu).map(([n, c]) => [n, { cpuSecPer1000: c / 2, peakRssMb: 100 }])),
    peakRssMb: {},
  };
}

function run(): ReportRun {
  const s = (n: string, rate: number) =>
    scenario(n, rate, { 'ingest-api': 0.04, kafka: 0.01, rabbitmq: 0.02, 'writer-kafka': 0.005, nginx: 0.03 });
  const openLoop = {
    commit: 'abc1234',
    date: '2026-12-03T09:00:00.000Z',
    machine: { cores: 2, cpuModel: 'Test CPU', memoryGiB: 24, node: 'v26' },
    fanout: s('fanout', 7000),
    kafkaOnly: s('kafkaOnly', 8000),
    rabbitmqOnly: s('rabbitmqOnly', 7500),
    fanoutWriters2: s('w2', 6000),
    fanoutApis1: s('a1', 6000),
    fanoutApis2: s('a2', 5000),
    fanoutApis3: s('a3', 5000),
    seedLoads: {
      idle: { throughput: 400, p50Ms: 2, p99Ms: 7, cpuSecPer1000: { a: 0.5 } },
      seed: { clients: 10, tweets: 10_000, throughput: 2000, p50Ms: 3, p99Ms: 9, cpuSecPer1000: { 'ingest-api': 0.1, b: 0.4 } },
    },
  } as never;
  const files = { openLoop: ['x-report-openloop.json'], transport: ['x-transport.json'], valkeyReplica: ['x-valkey-replica.json'] };
  return {
    file: 'x-report.json',
    manifest: {
      date: '2026-12-03T09:00:00.000Z',
      commit: 'abc1234',
      quick: false,
      machine: { cores: 2, cpuModel: 'Test CPU', node: 'v26' },
      durationSec: 600,
      files,
    },
    files,
    openLoops: [openLoop],
    transports: [
      {
        date: '',
        commit: 'abc1234',
        results: [
          {
            transport: 'grpc-unary',
            batchSize: 1,
            inFlight: 4,
            batches: 10,
            tweets: 10,
            received: 10,
            batchesPerSec: 7000,
            tweetsPerSec: 7000,
            p50Ms: 0.5,
            p99Ms: 1,
            clientUsPerTweet: 90,
            serverUsPerTweet: 80,
          },
        ],
      },
    ],
    valkeyReplicas: [
      {
        date: '',
        commit: 'abc1234',
        results: [
          {
            case: 'replica+wait',
            batchSize: 100,
            inFlight: 2,
            tweets: 100,
            tweetsPerSec: 50_000,
            batchesPerSec: 500,
            p50Ms: 2,
            p99Ms: 4,
            primaryUsPerTweet: 3,
            replicaUsPerTweet: 2,
            replicaCatchUpMs: 3,
            replicaMatches: true,
          },
        ],
      },
    ],
  };
}

test("the API's scaling is read from its manifest as deployed", () => {
  const s = apiScaling(readFileSync(join(ROOT, 'deploy', 'k8s', 'base', 'ingest-api.yaml'), 'utf8'));
  assert.deepEqual(Object.keys(s), ['requestMillicores', 'targetPercent', 'minReplicas', 'maxReplicas']);
  assert.ok(s.requestMillicores > 0 && s.targetPercent > 0 && s.maxReplicas >= s.minReplicas, JSON.stringify(s));
  assert.throws(() => apiScaling('kind: Deployment'), /CPU request/);
});

test('tables carry the run figures: CPU at the rate every scenario passed, summed over the processes asked for', () => {
  const en = sections(run(), scaling, 'en');
  // the common rate is 5,000/s; all processes: 0.105 CPU-s per 1,000; brokers 0.03; at the top rate half of it
  // (CPU at that rate first: the headline), then p99 there, the top rate and p99 at the top
  assert.match(en.brokers!, /\| Kafka only \| 0\.105 \| 0\.030 \| 0\.005 \| — \| 50\.0 \| 8,000 \| 50\.0 \|/);
  assert.match(en.apis!, /\| NGINX \+ 2 APIs \| 0\.105 \| 0\.030 \| 0\.040 \| 50\.0 \| 5,000 \| 50\.0 \|$/m);
  // no tweets/s at the target extrapolated from a high rate (the cost per tweet is higher at low rates: the
  // cluster's HPA run measures it); the seed's load: 2,000/s × 0.1 = 200m, 200 %
  assert.doesNotMatch(en.hpa!, /at the target/);
  assert.match(en.hpa!, /200m = 200 % of the request/);
  // Spanish as written in Guatemala: 2,000 and 0.100, not 2.000 and 0,100
  assert.match(sections(run(), scaling, 'es').hpa!, /mediana 2,000 tweets\/s × mediana 0\.100 s por 1,000/);
  // a process a scenario does not run has no figure, not a zero
  assert.match(
    sections(
      { ...run(), openLoops: [{ ...run().openLoops[0]!, fanoutApis1: scenario('a1', 6000, { 'ingest-api': 0.04 }) }] },
      scaling,
      'en',
    ).apis!,
    /\| NGINX \+ 1 API \| 0\.040 \| — \| 0\.040 \| 50\.0 \| 6,000 \| 50\.0 \|$/m,
  );
  assert.match(en.run!, /\[x-report-openloop\.json\]\(\.\.\/bench\/results\/x-report-openloop\.json\)/);
  const es = sections(run(), scaling, 'es');
  assert.match(es.brokers!, /\| solo Kafka \| 0\.105 \| 0\.030 \|/);
  assert.match(es.transport!, /\| grpc-unary \| 1 \| 7,000 \| 0\.50 \|/);
  for (const [name, svg] of Object.entries(charts(run(), 'en'))) assert.match(svg, /^<svg[\s\S]*<\/svg>$/, name);
});

test('repeated runs: each cell is the median, with the lowest and highest in brackets', () => {
  const one = run();
  const at = (maxRate: number, api: number) => ({
    ...one.openLoops[0]!,
    kafkaOnly: scenario('kafkaOnly', maxRate, { 'ingest-api': api, kafka: 0.01 }),
  });
  const three: ReportRun = {
    ...one,
    files: { ...one.files, openLoop: ['r1.json', 'r2.json', 'r3.json'] },
    openLoops: [at(8000, 0.04), at(6000, 0.05), at(9000, 0.03)],
  };
  const en = sections(three, scaling, 'en');
  // CPU at 5,000/s: 0.05, 0.06, 0.04 → median 0.050; top rate 8,000 of 6,000–9,000
  assert.match(en.brokers!, /\| Kafka only \| 0\.050 \(0\.040–0\.060\) \| 0\.010 \(0\.010–0\.010\) \|.*\| 8,000 \(6,000–9,000\) \|/);
  assert.match(en.run!, /3 runs, each on a fresh stack/);
  assert.match(en.run!, /run 3: \[r3\.json\]/);
  assert.match(en.brokers!, /Source: \[r1\.json\].*\[r3\.json\]/);
  // a rate one run did not reach is said so, not hidden in a median of two
  const missing = structuredClone(three);
  missing.openLoops[1]!.kafkaOnly.steps.pop();
  assert.match(sections(missing, scaling, 'en').loads!, /\| 9,000 \| 90\.0 \(90\.0–90\.0\) \(fails\) \[2 of 3 runs\]/);
  // a scenario that failed even its first step in one run (on latency): the figures are taken there, said so
  const slow = structuredClone(three);
  for (const st of slow.openLoops[2]!.kafkaOnly.steps) st.passed = false;
  const brokers = sections(slow, scaling, 'en').brokers!;
  assert.match(brokers, /CPU s per 1,000 at 1,000\/s/);
  assert.match(brokers, /\| Kafka only \|.*\| 10\.0 \(10\.0–10\.0\) \(fails in 1 of 3\) \|/);
  // its top rate is below the ladder's first rate: the lowest of the three, never a zero
  slow.openLoops[2]!.kafkaOnly.maxRate = 0;
  assert.match(sections(slow, scaling, 'en').brokers!, /\| 6,000 \(< 1,000–8,000\) \| 50\.0 \(50\.0–50\.0\) \|/);
  assert.match(charts(slow, 'en').brokers!, />6,000</);
  assert.equal(median([3, null, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(median([]), null);
});

test('every section is marked once; an unknown, doubled or missing marker is an error', () => {
  const doc = 'intro\n<!-- report:a -->\nold\n<!-- /report:a -->\nmiddle\n<!-- report:b -->\n<!-- /report:b -->\nend\n';
  assert.equal(
    fill(doc, { a: 'A', b: 'B' }),
    'intro\n<!-- report:a -->\nA\n<!-- /report:a -->\nmiddle\n<!-- report:b -->\nB\n<!-- /report:b -->\nend\n',
  );
  assert.throws(() => fill(doc, { a: 'A' }), /unknown report section b/);
  assert.throws(() => fill(doc, { a: 'A', b: 'B', c: 'C' }), /not marked: c/);
  assert.throws(() => fill(doc + '<!-- report:a -->\n<!-- /report:a -->\n', { a: 'A', b: 'B' }), /marked twice/);
});

test('the newest run of the kind asked for is read, with the files its manifest names', () => {
  const dir = tempDir('report-');
  try {
    // a manifest of repeated runs names a list per kind; one from before them, a file
    const manifest = (quick: boolean, stamp: string) => ({
      quick,
      files:
        stamp === '2026-01-01'
          ? { openLoop: `${stamp}-ol.json`, transport: `${stamp}-t.json`, valkeyReplica: `${stamp}-v.json` }
          : { openLoop: [`${stamp}-ol.json`], transport: [`${stamp}-t.json`], valkeyReplica: [`${stamp}-v.json`] },
    });
    for (const [stamp, quick] of [
      ['2026-01-01', false],
      ['2026-01-02', false],
      ['2026-01-03', true],
    ] as const) {
      writeFileSync(join(dir, `${stamp}-abc-report.json`), JSON.stringify(manifest(quick, stamp)));
      for (const k of ['ol', 't', 'v']) writeFileSync(join(dir, `${stamp}-${k}.json`), JSON.stringify({ stamp }));
    }
    const r = latestRun(dir, false);
    assert.equal(r.file, '2026-01-02-abc-report.json');
    assert.deepEqual(r.openLoops, [{ stamp: '2026-01-02' }] as never);
    rmSync(join(dir, '2026-01-02-abc-report.json'));
    assert.deepEqual(latestRun(dir, false).files.transport, ['2026-01-01-t.json']);
    assert.equal(latestRun(dir, true).file, '2026-01-03-abc-report.json');
    rmSync(join(dir, '2026-01-03-abc-report.json'));
    assert.throws(() => latestRun(dir, true), /no quick report run/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('both report files link only to files in the repository and to their own headings', () => {
  const anchor = (h: string) =>
    h
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} -]/gu, '')
      .replace(/ /g, '-');
  for (const name of ['report.md', 'report.es.md']) {
    const file = join(ROOT, 'docs', name);
    const doc = readFileSync(file, 'utf8');
    const headings = new Set([...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));
    const links = [...doc.replace(/```[\s\S]*?```/g, '').matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    assert.ok(links.length > 20, `${name}: ${links.length} links`);
    for (const target of links) {
      assert.doesNotMatch(target, /^[a-z]+:/i, `${name} links outside the repository: ${target}`);
      const [path, hash] = target.split('#');
      if (!path) assert.ok(headings.has(hash!), `${name}: no heading for #${hash}`);
      else assert.ok(existsSync(join(ROOT, 'docs', path)), `${name}: ${target} does not exist`);
    }
  }
});

/**
 * Every figure the prose states with a unit (tweets/s, ms, s, %, CPU) is measured: it appears, at the
 * precision written, in a result file the report links to or in a table rendered from one; or it is
 * arithmetic on such figures, written beside it as `<!-- 2,700 ≈ 10,000 / 3.7 -->` (≈ within 5 %, = at
 * the precision written), whose operands must themselves be measured.
 */
test('every figure in the report prose comes from a cited result file, or is arithmetic on them', () => {
  const value = (s: string) => Number(s.replace(/,/g, ''));
  const decimals = (s: string) => s.split('.')[1]?.length ?? 0;
  const numbersIn = (text: string) => [...text.matchAll(/\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?/g)].map((m) => value(m[0]));
  for (const name of ['report.md', 'report.es.md']) {
    const doc = readFileSync(join(ROOT, 'docs', name), 'utf8');
    const cited = [...new Set([...doc.matchAll(/\.\.\/bench\/results\/([^)\s#]+)/g)].map((m) => m[1]!))];
    const sources = new Set<number>();
    for (const f of cited) for (const n of numbersIn(readFileSync(join(ROOT, 'bench', 'results', f), 'utf8'))) sources.add(n);
    for (const m of doc.matchAll(/<!-- report:(\w+) -->([\s\S]*?)<!-- \/report:\1 -->/g)) for (const n of numbersIn(m[2]!)) sources.add(n);
    const measured = (s: string) => {
      const v = value(s);
      const d = decimals(s);
      return [...sources].some((x) => Number(x.toFixed(d)) === v);
    };
    for (const [, figure, op, expr] of doc.matchAll(/<!-- ([\d,.]+) ([=≈]) ([\d,.+\-*/() ]+) -->/g)) {
      const operands = expr!.match(/[\d,.]+/g) ?? [];
      for (const o of operands) assert.ok(measured(o), `${name}: the operand ${o} of ${figure} ${op} ${expr} is not measured`);
      const result = Function(`return (${expr!.replace(/(\d),(?=\d{3})/g, '$1')});`)() as number;
      const ok = op === '=' ? Number(result.toFixed(decimals(figure!))) === value(figure!) : Math.abs(result / value(figure!) - 1) <= 0.05;
      assert.ok(ok, `${name}: ${figure} ${op} ${expr} is ${result}`);
      sources.add(value(figure!));
    }
    const prose = doc
      .replace(/<!-- report:(\w+) -->[\s\S]*?<!-- \/report:\1 -->/g, '')
      .replace(/<!--[\s\S]*?-->/g, '')
      .replace(/```[\s\S]*?```/g, '')
      .replace(/`[^`\n]*`/g, '')
      .replace(/\]\([^)]*\)/g, ']');
    const figures = [
      ...prose.matchAll(/(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?=\s*(?:tweets\/s|\/s\b|ms\b|%|s\b|CPU))/g),
    ];
    assert.ok(figures.length > 50, `${name}: ${figures.length} figures found`);
    const unmeasured = figures
      .filter((m) => !measured(m[1]!))
      .map((m) => `${m[1]} in "…${prose.slice(Math.max(0, m.index - 50), m.index + 20).replace(/\s+/g, ' ')}…"`);
    assert.deepEqual(unmeasured, [], `${name}: figures in no cited result file`);
  }
});
