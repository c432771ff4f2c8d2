import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fetchStats, waitForCounts } from '@tweets/loadgen';
import { layout, readState, ROOT, startStack, stopStack, type Profile, type Route, type StackLayout } from '@tweets/stack';
import { openLoop } from './openloop.js';
import { markdown, svg, type BenchResults, type ProcessCost, type ScenarioResult } from './report.js';
import { sampleTree } from './sampler.js';

export const SCENARIOS = ['bare', 'naive', 'fanout', 'kafkaOnly', 'rabbitmqOnly'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

const PIPELINE: Record<Exclude<ScenarioName, 'bare'>, { route: Route; profile: Profile; description: string }> = {
  naive: { route: 'both', profile: 'naive', description: 'both paths, one call and one broker round trip per tweet at every hop' },
  fanout: { route: 'both', profile: 'default', description: 'both paths (Kafka and RabbitMQ)' },
  kafkaOnly: { route: 'kafka', profile: 'default', description: 'Kafka path only' },
  rabbitmqOnly: { route: 'rabbitmq', profile: 'default', description: 'RabbitMQ path only' },
};

export interface BenchOptions {
  stepSec: number;
  rates: number[];
  scenarios: readonly ScenarioName[];
  stack: string;
  /** Start and stop the stack per scenario (false: use the running one as it is, for the smoke test). */
  manageStack: boolean;
  outDir: string;
  quick: boolean;
  log: (m: string) => void;
}

const P99_MAX_MS = 100;
const DRAIN_MAX_MS = 5000;
const BARE_PORT_OFFSET = 19;

function empty(name: string, description: string): ScenarioResult {
  return { name, description, maxRate: 0, p50Ms: null, p99Ms: null, steps: [], processes: {} };
}

async function findMax(
  o: BenchOptions,
  name: string,
  description: string,
  url: string,
  countPaths: ('kafka' | 'rabbitmq')[],
  pids: () => Record<string, number>,
): Promise<ScenarioResult> {
  const result = empty(name, description);
  // Warm-up, not recorded: JIT, connection pools, Kafka metadata and group join.
  await openLoop({ url, path: '/tweets', rate: o.rates[0]!, durationMs: Math.min(3000, o.stepSec * 1000), connections: 256, idPrefix: `warm-${name}-${Date.now()}` });
  if (countPaths.length) await new Promise((r) => setTimeout(r, 500));
  for (const rate of o.rates) {
    const procs = pids();
    const cpu0 = Object.fromEntries(Object.entries(procs).map(([n, pid]) => [n, sampleTree(pid).cpuSec]));
    const self0 = process.cpuUsage();
    const peak: Record<string, number> = {};
    const rssTimer = setInterval(() => {
      for (const [n, pid] of Object.entries(procs)) peak[n] = Math.max(peak[n] ?? 0, sampleTree(pid).rssMb);
      peak['bench (load generator)'] = Math.max(peak['bench (load generator)'] ?? 0, process.memoryUsage().rss / 2 ** 20);
    }, 500);
    const before = countPaths.length ? await fetchStats(url) : undefined;
    const step = await openLoop({ url, path: '/tweets', rate, durationMs: o.stepSec * 1000, connections: 256, idPrefix: `bench-${name}-${rate}-${Date.now()}` });
    clearInterval(rssTimer);
    let countedWithinMs: number | null = null;
    let reason = '';
    if (before) {
      const expected = Object.fromEntries(countPaths.map((p) => [p, step.ok]));
      const { reached, waitedMs } = await waitForCounts(url, before, expected, DRAIN_MAX_MS);
      countedWithinMs = reached ? waitedMs : null;
      if (!reached) reason = `not counted within ${DRAIN_MAX_MS / 1000} s`;
    }
    const cpu1 = Object.fromEntries(Object.entries(procs).map(([n, pid]) => [n, sampleTree(pid).cpuSec]));
    const self = process.cpuUsage(self0);
    if (step.ok !== step.sent) reason = `${step.sent - step.ok} of ${step.sent} not accepted`;
    else if (step.p99Ms > P99_MAX_MS) reason = `p99 ${step.p99Ms} ms > ${P99_MAX_MS} ms`;
    const passed = reason === '';
    result.steps.push({ ...step, passed, reason, countedWithinMs });
    o.log(`${name} ${rate}/s: ${passed ? 'pass' : `FAIL (${reason})`}; p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, achieved ${step.achievedRate}/s`);
    if (!passed) break;
    const per1000 = Math.max(step.ok, 1) / 1000;
    const processes: Record<string, ProcessCost> = {};
    for (const n of Object.keys(procs)) processes[n] = { cpuSecPer1000: Math.round(((cpu1[n]! - cpu0[n]!) / per1000) * 1000) / 1000, peakRssMb: Math.round(peak[n] ?? 0) };
    processes['bench (load generator)'] = {
      cpuSecPer1000: Math.round(((self.user + self.system) / 1e6 / per1000) * 1000) / 1000,
      peakRssMb: Math.round(peak['bench (load generator)'] ?? 0),
    };
    Object.assign(result, { maxRate: rate, p50Ms: step.p50Ms, p99Ms: step.p99Ms, processes });
  }
  return result;
}

function stackPids(l: StackLayout): Record<string, number> {
  const s = readState(l);
  return Object.fromEntries(Object.entries(s?.components ?? {}).filter(([, c]) => c.pid).map(([n, c]) => [n, c.pid!]));
}

async function bare(o: BenchOptions, l: StackLayout): Promise<ScenarioResult> {
  const port = l.ports.api + BARE_PORT_OFFSET;
  const child = spawn(process.execPath, [join(ROOT, 'bench', 'dist', 'src', 'bare.js'), String(port)], { stdio: 'ignore' });
  try {
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(`${url}/tweets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return await findMax(o, 'bare', 'no-op endpoint: parse JSON, answer 202', url, [], () => ({ bare: child.pid! }));
  } finally {
    child.kill('SIGTERM');
  }
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export async function runBench(o: BenchOptions): Promise<{ results: BenchResults; files: string[] }> {
  const l = layout(o.stack);
  const date = new Date().toISOString();
  const out: Partial<Record<ScenarioName, ScenarioResult>> = {};
  for (const name of SCENARIOS) {
    if (!o.scenarios.includes(name)) continue;
    if (name === 'bare') {
      out.bare = await bare(o, l);
      continue;
    }
    const sc = PIPELINE[name];
    if (o.manageStack) {
      await stopStack(l);
      o.log(`starting stack ${l.name}: route ${sc.route}, profile ${sc.profile}`);
      await startStack(l, sc.route, sc.profile);
    }
    const paths = sc.route === 'both' ? (['kafka', 'rabbitmq'] as const) : ([sc.route] as const);
    out[name] = await findMax(o, name, sc.description, l.apiUrl, [...paths], () => stackPids(l));
  }
  if (o.manageStack) await stopStack(l);
  const get = (n: ScenarioName) => out[n] ?? empty(n, 'not run');
  const fanout = get('fanout');
  const results: BenchResults = {
    date,
    commit: commit(),
    quick: o.quick,
    machine: { cores: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    criteria: { stepSeconds: o.stepSec, p99MaxMs: P99_MAX_MS, drainMaxMs: DRAIN_MAX_MS },
    bare: get('bare'),
    naive: get('naive'),
    fanout: { ...fanout, ratioToBare: get('bare').maxRate ? Math.round((fanout.maxRate / get('bare').maxRate) * 100) / 100 : 0 },
    kafkaOnly: get('kafkaOnly'),
    rabbitmqOnly: get('rabbitmqOnly'),
  };
  mkdirSync(o.outDir, { recursive: true });
  const base = join(o.outDir, `${date.slice(0, 19).replace(/[:T]/g, '-')}-${results.commit}${o.quick ? '-quick' : ''}`);
  const files = [`${base}.json`, `${base}.md`, `${base}.svg`, join(o.outDir, 'latest.json')];
  writeFileSync(files[0]!, JSON.stringify(results, null, 2));
  writeFileSync(files[1]!, markdown(results));
  writeFileSync(files[2]!, svg(results));
  writeFileSync(files[3]!, JSON.stringify(results, null, 2));
  return { results, files };
}
