import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { weather, type BrokerPath, type WeatherDomain } from '@tweets/domain';
import type { StatsOf } from '@tweets/store/stats';
import { fetchStats, waitForCounts } from '@tweets/loadgen';
import {
  layout,
  readState,
  reconfigureStack,
  ROOT,
  secrets,
  startStack,
  stopStack,
  type Profile,
  type Route,
  type StackLayout,
} from '@tweets/stack';
import { connectValkey } from '@tweets/store';
import { measureFloors, type Floors } from './floors.js';
import { openLoop } from './openloop.js';
import {
  ceilingOf,
  judgeTargets,
  markdown,
  PIPELINES,
  SCENARIOS,
  svg,
  type BenchResults,
  type ProcessCost,
  type ScenarioName,
  type ScenarioResult,
} from './report.js';
import { cpuOf, TreeSampler } from './sampler.js';
import { routedPaths, runSeedLoads, stackPids, type SeedLoads } from './seedload.js';

const PIPELINE: Record<
  Exclude<ScenarioName, 'bare'>,
  { route: Route; profile: Profile; writers?: number; apis?: number; description: string }
> = {
  fanout: { route: 'both', profile: 'default', description: 'both paths (Kafka and RabbitMQ)' },
  fanoutWriters2: { route: 'both', profile: 'default', writers: 2, description: 'both paths, two writer processes per broker' },
  fanoutApis1: { route: 'both', profile: 'default', apis: 1, description: 'both paths, NGINX in front of one API process' },
  fanoutApis2: { route: 'both', profile: 'default', apis: 2, description: 'both paths, NGINX in front of two API processes' },
  fanoutApis3: { route: 'both', profile: 'default', apis: 3, description: 'both paths, NGINX in front of three API processes' },
  kafkaOnly: { route: 'kafka', profile: 'default', description: 'Kafka path only' },
  rabbitmqOnly: { route: 'rabbitmq', profile: 'default', description: 'RabbitMQ path only (a quorum queue)' },
  rabbitmqOnlyClassic: { route: 'rabbitmq', profile: 'classicQueue', description: 'RabbitMQ path only, a classic queue' },
  naive: {
    route: 'both',
    profile: 'naive',
    description: 'both paths, one request, one call and one broker round trip per tweet at every hop',
  },
};

/** The Node.js services, whose RSS the benchmark holds under a limit. */
const NODE_SERVICES = [
  'ingest-api',
  'ingest-api-2',
  'ingest-api-3',
  'dispatcher',
  'writer-kafka',
  'writer-rabbitmq',
  'writer-kafka-2',
  'writer-rabbitmq-2',
  'kafka-consumer',
  'rabbitmq-consumer',
];
const LOADGEN = 'bench (load generator)';

export interface BenchOptions {
  stepSec: number;
  /** Seconds each step runs at its rate before its measured window (sent and counted, not in the latency figures). */
  rampSec: number;
  /** Offered rates, in order, per kind of scenario; the first failing one ends the scan. */
  rates: { bare: number[]; pipeline: number[]; naive: number[] };
  /** After the scan, halvings of the gap between the last passing and the first failing rate. */
  refine: number;
  /** Load before a pipeline scenario's first step, not recorded: JIT (Node and the Kafka JVM), pools, group joins. */
  warmupSec: number;
  /** Seconds each broker's floor is measured. */
  floorSec: number;
  /** Times each floor is measured; the lowest counts (other processes' noise only ever adds CPU). */
  floorRepeats: number;
  scenarios: readonly ScenarioName[];
  /** The seed's closed-loop load, run on the fan-out stack before the open-loop scenarios (null: not run). */
  seedLoad: { clients: number; tweets: number } | null;
  stack: string;
  /** Start a fresh stack and reconfigure it per scenario (false: use the running one as it is, for the smoke test). */
  manageStack: boolean;
  outDir: string;
  /** Names the result files instead of the scenarios run (a run of some scenarios leaves latest.json alone either way). */
  label?: string;
  quick: boolean;
  log: (m: string) => void;
}

export const P99_MAX_MS = 100;
export const DRAIN_MAX_MS = 5000;
const CONNECTIONS = 512;
/** The floors are measured with batches of this many tweets: about what the API's batches hold near the pipeline's top rate. */
const FLOOR_BATCH = 50;

/** An open-loop load of tweets on `url`, as every step, warm-up and floor of the harness sends it. */
const tweetsAt = (url: string, rate: number, durationMs: number, idPrefix: string, rampMs = 0) =>
  openLoop({ url, path: '/tweets', rate, durationMs, rampMs, connections: CONNECTIONS, idPrefix });

function empty(name: string, description: string): ScenarioResult {
  return { name, description, maxRate: 0, p50Ms: null, p99Ms: null, steps: [], processes: {}, peakRssMb: {} };
}

interface Target {
  url: string;
  countPaths: BrokerPath[];
  pids: () => Record<string, number>;
}

/** One open-loop step at `rate`: its result, whether it passed, and the CPU and RSS of every process. */
async function step(o: BenchOptions, name: string, t: Target, rate: number, result: ScenarioResult) {
  const sampler = new TreeSampler(t.pids());
  const cpu0 = sampler.sample();
  const self0 = process.cpuUsage();
  // The Node.js services start afresh for each scenario, so their kernel high-water mark (VmHWM) is their
  // peak over the scenario, however short; the brokers run across scenarios, so theirs is sampled.
  const peaks = () => {
    for (const [n, s] of Object.entries(sampler.sample())) {
      result.peakRssMb[n] = Math.max(result.peakRssMb[n] ?? 0, Math.round(NODE_SERVICES.includes(n) ? s.hwmMb : s.rssMb));
    }
    result.peakRssMb[LOADGEN] = Math.max(result.peakRssMb[LOADGEN] ?? 0, Math.round(process.memoryUsage().rss / 2 ** 20));
  };
  const rssTimer = setInterval(peaks, 500);
  let before: StatsOf<WeatherDomain> | undefined;
  if (t.countPaths.length) before = await fetchStats<WeatherDomain>(t.url);
  const s = await tweetsAt(t.url, rate, o.stepSec * 1000, `bench-${name}-${rate}-${Date.now()}`, o.rampSec * 1000);
  clearInterval(rssTimer);
  peaks();
  const cpu1 = sampler.sample();
  const self = process.cpuUsage(self0);
  let countedWithinMs: number | null = null;
  let reason = '';
  if (before) {
    const expected = Object.fromEntries(t.countPaths.map((p) => [p, s.ok]));
    const { reached, waitedMs } = await waitForCounts(t.url, before, expected, DRAIN_MAX_MS);
    countedWithinMs = reached ? waitedMs : null;
    if (!reached) reason = `not counted within ${DRAIN_MAX_MS / 1000} s`;
    // A failed step may leave a backlog: let it drain before the next step starts.
    if (!reached) await waitForCounts(t.url, before, expected, 60_000);
  }
  if (s.ok !== s.sent) reason = `${s.sent - s.ok} of ${s.sent} not accepted`;
  else if (s.p99Ms > P99_MAX_MS) reason = `p99 ${s.p99Ms} ms > ${P99_MAX_MS} ms`;
  const passed = reason === '';
  const per1000 = Math.max(s.ok, 1) / 1000;
  const processes: Record<string, ProcessCost> = {};
  for (const n of Object.keys(cpu0)) {
    processes[n] = {
      cpuSecPer1000: Math.round(((cpu1[n]!.cpuSec - cpu0[n]!.cpuSec) / per1000) * 1000) / 1000,
      peakRssMb: result.peakRssMb[n] ?? 0,
    };
  }
  processes[LOADGEN] = {
    cpuSecPer1000: Math.round(((self.user + self.system) / 1e6 / per1000) * 1000) / 1000,
    peakRssMb: result.peakRssMb[LOADGEN] ?? 0,
  };
  o.log(`${name} ${rate}/s: ${passed ? 'pass' : `FAIL (${reason})`}; p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, achieved ${s.achievedRate}/s`);
  const cpuSecPer1000 = Object.fromEntries(Object.entries(processes).map(([n, c]) => [n, c.cpuSecPer1000]));
  return { step: { ...s, passed, reason, countedWithinMs, cpuSecPer1000 }, processes };
}

/** The middle of a gap, in round figures: hundreds, or tens when the gap is small (200 and 300 give 250). */
export function midpoint(lo: number, hi: number): number {
  const unit = hi - lo >= 400 ? 100 : 10;
  return Math.round((lo + hi) / 2 / unit) * unit;
}

/** Raises the rate until a step fails, then narrows the gap; the highest passing rate is the scenario's maxRate. */
async function findMax(o: BenchOptions, name: string, description: string, t: Target, rates: number[]): Promise<ScenarioResult> {
  const result = empty(name, description);
  const record = (r: Awaited<ReturnType<typeof step>>) => {
    result.steps.push(r.step);
    if (r.step.passed && r.step.rate > result.maxRate) {
      Object.assign(result, { maxRate: r.step.rate, p50Ms: r.step.p50Ms, p99Ms: r.step.p99Ms, processes: r.processes });
    }
    return r.step.passed;
  };
  let lo = 0;
  let hi = 0;
  for (const rate of rates) {
    if (!record(await step(o, name, t, rate, result))) {
      hi = rate;
      break;
    }
    lo = rate;
    await sleep(1000);
  }
  for (let i = 0; i < o.refine && lo > 0 && hi > 0 && (hi - lo) / lo > 0.1; i++) {
    const mid = midpoint(lo, hi);
    // Never a rate already run: a failed rate that passes on a second try is not a pass.
    if (mid <= lo || mid >= hi) break;
    await sleep(3000);
    if (record(await step(o, name, t, mid, result))) lo = mid;
    else hi = mid;
  }
  result.steps.sort((a, b) => a.rate - b.rate);
  return result;
}

/**
 * Empties the stack's Valkey (FLUSHALL, then an AOF rewrite of the empty data set) once every count has
 * drained: each scenario then starts as the first did, instead of paying for the millions of ids the
 * earlier ones left in the dedup window (a larger AOF to rewrite, more memory).
 */
async function emptyValkey(l: StackLayout): Promise<void> {
  const redis = connectValkey(
    { host: '127.0.0.1', port: l.ports.valkey, username: 'default', password: secrets(l).valkeyAdminPassword, name: 'bench-reset' },
    () => {},
  );
  try {
    await new Promise((resolve, reject) => {
      redis.once('ready', resolve);
      setTimeout(() => reject(new Error('Valkey did not answer within 10 s')), 10_000).unref();
    });
    await redis.flushall();
    // A rewrite already running makes BGREWRITEAOF schedule one after it; wait for both to finish.
    await redis.bgrewriteaof().catch(() => undefined);
    for (let i = 0; i < 600; i++) {
      const info = await redis.info('persistence');
      if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) break;
      await sleep(100);
    }
  } finally {
    redis.disconnect();
  }
}

/** The HTTP edge's floor at `rate`: the bare endpoint and the load generator, CPU µs per request. */
function httpFloor(l: StackLayout, rate: number, seconds: number): Promise<{ bare: number; loadgen: number }> {
  return withBare(l, async ({ child, url }) => {
    await tweetsAt(url, rate, 2000, 'floor-warm');
    const sampler = new TreeSampler({ bare: child.pid! });
    const c0 = sampler.sample().bare!.cpuSec;
    const self0 = process.cpuUsage();
    const s = await tweetsAt(url, rate, seconds * 1000, 'floor');
    const self = process.cpuUsage(self0);
    const us = (sec: number) => Math.round((sec / Math.max(1, s.ok)) * 1e7) / 10;
    return { bare: us(sampler.sample().bare!.cpuSec - c0), loadgen: us((self.user + self.system) / 1e6) };
  });
}

/** Each floor's lowest measurement: a floor is what a component costs at least. */
function lowest<F extends Floors & { http: { bare: number; loadgen: number } }>(a: F, b: F): F {
  const min = <T extends Record<string, number>>(x: T, y: T) =>
    Object.fromEntries(Object.keys(x).map((k) => [k, Math.min(x[k]!, y[k]!)])) as T;
  return { ...a, us: min(a.us, b.us), http: min(a.http, b.http) };
}

/** The short commit of the working tree, which names every result file. */
export function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** What the scenarios measured: each scenario's ladder, the floors at the fan-out's top rate, the seed's load. */
interface Measured {
  out: Partial<Record<ScenarioName, ScenarioResult>>;
  floors?: Floors & { http: { bare: number; loadgen: number } };
  seed?: SeedLoads;
}

/** Runs every scenario of `o` on the stack `l` (started fresh, reconfigured per scenario, stopped, when it manages the stack). */
async function measureScenarios(o: BenchOptions, l: StackLayout): Promise<Measured> {
  const m: Measured = { out: {} };
  if (o.manageStack) {
    // A fresh stack: empty brokers and Valkey, so no run inherits another's backlog or data.
    await stopStack(l);
    rmSync(l.dir, { recursive: true, force: true });
  }
  try {
    if (o.scenarios.includes('bare')) {
      m.out.bare = await withBare(l, ({ child, url }) =>
        findMax(
          o,
          'bare',
          'no-op endpoint: parse JSON, answer 202',
          { url, countPaths: [], pids: () => ({ bare: child.pid! }) },
          o.rates.bare,
        ),
      );
    }
    if (o.manageStack) await startStack(l);
    if (o.seedLoad) m.seed = await seedLoadsOn(l, { ...o.seedLoad, log: o.log, floorSec: o.floorSec, warmupSec: o.warmupSec });
    for (const name of PIPELINES) {
      if (!o.scenarios.includes(name)) continue;
      const sc = PIPELINE[name];
      if (o.manageStack) {
        await reconfigureStack(l, sc);
        await emptyValkey(l);
      }
      const paths = sc.route === 'both' ? weather.paths : [sc.route];
      const rates = name === 'naive' ? o.rates.naive : o.rates.pipeline;
      if (o.warmupSec > 0) await warmUp(o, l, name, rates, paths);
      m.out[name] = await findMax(o, name, sc.description, { url: l.apiUrl, countPaths: [...paths], pids: () => stackPids(l) }, rates);
      // The floors, at the rate the pipeline reached (its first rate if none passed): what the brokers and the HTTP edge cost there on their own.
      if (name === 'fanout') m.floors = await floorsAt(o, l, m.out.fanout!.maxRate || rates[0]!);
    }
  } finally {
    if (o.manageStack) await stopStack(l);
  }
  return m;
}

/** The seed's loads on the running stack `l` (the paths it routes), with the bare endpoint up for the HTTP edge's share. */
export function seedLoadsOn(
  l: StackLayout,
  o: { clients: number; tweets: number; floorSec: number; warmupSec: number; log: (m: string) => void },
): Promise<SeedLoads> {
  return withBare(l, ({ child, url }) =>
    runSeedLoads(l, { ...o, paths: routedPaths((readState(l)?.route ?? 'both') as Route), bare: { url, pid: child.pid! } }),
  );
}

/** Runs `f` with the bare endpoint up (once it answers), and stops it after. */
async function withBare<T>(l: StackLayout, f: (bare: { child: ChildProcess; url: string }) => Promise<T>): Promise<T> {
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'dist', 'src', 'bare.js'), String(l.ports.bare)], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${l.ports.bare}`;
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`${url}/tweets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        break;
      } catch {
        await sleep(100);
      }
    }
    return await f({ child, url });
  } finally {
    child.kill('SIGTERM');
  }
}

/** A scenario's warm-up: a load at a middle rate, every tweet counted, before its ladder. */
async function warmUp(
  o: BenchOptions,
  l: StackLayout,
  name: string,
  rates: readonly number[],
  paths: readonly BrokerPath[],
): Promise<void> {
  const warm = Math.max(rates[0]!, Math.min(1000, rates[Math.floor(rates.length / 2)]!));
  const before = await fetchStats<WeatherDomain>(l.apiUrl);
  const w = await tweetsAt(l.apiUrl, warm, o.warmupSec * 1000, `warm-${name}-${Date.now()}`);
  await waitForCounts(l.apiUrl, before, Object.fromEntries(paths.map((p) => [p, w.ok])), 30_000);
  await sleep(1000);
}

/** Each component's own CPU per tweet at `rate`, the lowest of `floorRepeats` measurements. */
async function floorsAt(o: BenchOptions, l: StackLayout, rate: number): Promise<Measured['floors']> {
  o.log(`floors at ${rate}/s, batches of ${FLOOR_BATCH}`);
  let floors: Measured['floors'];
  for (let i = 0; i < o.floorRepeats; i++) {
    const f = await measureFloors(l, stackPids(l), { rate, seconds: o.floorSec, batch: FLOOR_BATCH });
    const http = await httpFloor(l, rate, o.floorSec);
    o.log(`floors (CPU µs per tweet), measurement ${i + 1} of ${o.floorRepeats}: ${JSON.stringify({ ...http, ...f.us })}`);
    floors = floors ? lowest(floors, { ...f, http }) : { ...f, http };
    floors.repeats = i + 1;
  }
  return floors;
}

/** The results file's body: every scenario (an empty one when not run), the fan-out's ratios, the floors and ceiling, the seed's load. */
function assemble(o: BenchOptions, date: string, { out, floors, seed }: Measured): BenchResults {
  const get = (n: ScenarioName) => out[n] ?? empty(n, 'not run');
  const all = Object.fromEntries(SCENARIOS.map((k) => [k, get(k)])) as Record<ScenarioName, ScenarioResult>;
  const ratio = (a: number, b: number) => (b ? Math.round((a / b) * 100) / 100 : 0);
  const ceiling = floors ? ceilingOf(floors, cpus().length) : undefined;
  const at5000 = all.fanout.steps.find((s) => s.rate === 5000);
  const s = seed?.seed; // the seed's load itself, summed up beside the other runs of seedLoads
  const measured: Omit<BenchResults, 'targets'> = {
    date,
    commit: commit(),
    quick: o.quick,
    machine: { ...cpuOf(), memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    criteria: { stepSeconds: o.stepSec, rampSeconds: o.rampSec, p99MaxMs: P99_MAX_MS, drainMaxMs: DRAIN_MAX_MS },
    ...all,
    fanout: {
      ...all.fanout,
      ratioToBare: ratio(all.fanout.maxRate, all.bare.maxRate),
      ratioToNaive: ratio(all.fanout.maxRate, all.naive.maxRate),
      ratioToCeiling: ceiling ? ratio(all.fanout.maxRate, ceiling.fanout) : 0,
      p99At5000Ms: at5000 ? at5000.p99Ms : null,
    },
    floors: floors ?? null,
    ceiling: ceiling ?? null,
    nodeServicePeakRssMb: Math.max(0, ...PIPELINES.flatMap((k) => NODE_SERVICES.map((s) => all[k].peakRssMb[s] ?? 0))),
    seedLoad: s ? { clients: s.clients, tweets: s.tweets, throughput: s.throughput, p50Ms: s.p50Ms, p99Ms: s.p99Ms } : null,
    seedLoads: seed ?? null,
  };
  return { ...measured, targets: judgeTargets(measured) };
}

/** Writes the run's JSON, Markdown and chart; a full run also rewrites latest.json. */
function writeBenchFiles(o: BenchOptions, results: BenchResults): string[] {
  mkdirSync(o.outDir, { recursive: true });
  // A run of some scenarios only is named for them; it and a quick run leave latest.json (the last full run's, committed) alone.
  const some = SCENARIOS.every((s) => o.scenarios.includes(s)) ? '' : `-${o.label ?? o.scenarios.join('-')}`;
  const base = join(o.outDir, `${results.date.slice(0, 19).replace(/[:T]/g, '-')}-${results.commit}${o.quick ? '-quick' : ''}${some}`);
  const keepLatest = (some !== '' || o.quick) && o.manageStack;
  const files = [`${base}.json`, `${base}.md`, `${base}.svg`, ...(keepLatest ? [] : [join(o.outDir, 'latest.json')])];
  writeFileSync(files[0]!, JSON.stringify(results, null, 2));
  writeFileSync(files[1]!, markdown(results));
  writeFileSync(files[2]!, svg(results));
  if (files[3]) writeFileSync(files[3], JSON.stringify(results, null, 2));
  return files;
}

export async function runBench(o: BenchOptions): Promise<{ results: BenchResults; files: string[] }> {
  const date = new Date().toISOString();
  const results = assemble(o, date, await measureScenarios(o, layout(o.stack)));
  return { results, files: writeBenchFiles(o, results) };
}
