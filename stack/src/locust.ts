/**
 * `npm run locust`: Locust (loadtest/locustfile.py, from PyPI in a venv the
 * project makes) sends the input file pulled from the OCI registry, and the
 * run is then checked: every tweet the API accepted must appear in GET /stats
 * on every path, per (municipality, weather) exactly as the file's manifest
 * counts them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { domains, type WeatherDomain } from '@tweets/domain';
import { breakdownDelta, type BreakdownOf } from '@tweets/store/stats';
import { fetchStats, waitForCounts } from '@tweets/loadgen';
import type { Dataset } from './loadtest.js';
import { ROOT } from './layout.js';
import { TOOL_PORTS } from './ports.js';
import type { Registry } from './registry.js';

export const VENV = join(ROOT, '.venv', 'loadtest');
const REQUIREMENTS = join(ROOT, 'loadtest', 'requirements.txt');
export const LOCUSTFILE = join(ROOT, 'loadtest', 'locustfile.py');

/** Locust in .venv/loadtest, installed from loadtest/requirements.txt; reinstalled when that file changes. */
export function ensureLocust(log: (m: string) => void): string {
  const marker = join(VENV, `.requirements-${createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex').slice(0, 12)}`);
  const bin = join(VENV, 'bin', 'locust');
  if (existsSync(marker) && existsSync(bin)) return bin;
  log(
    `installing Locust (${readFileSync(REQUIREMENTS, 'utf8').match(/^locust==\S+/m)?.[0] ?? 'loadtest/requirements.txt'}) into .venv/loadtest`,
  );
  rmSync(VENV, { recursive: true, force: true });
  const py = spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' });
  if (py.status !== 0) throw new Error('python3 -m venv failed: Locust needs Python 3.10+ with its venv module (Debian: python3-venv)');
  const pip = spawnSync(join(VENV, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS], {
    stdio: 'inherit',
  });
  if (pip.status !== 0) throw new Error('pip install -r loadtest/requirements.txt failed');
  writeFileSync(marker, '');
  return bin;
}

/** What the locustfile writes at the end (--results). */
export interface LocustResults {
  count: number;
  sent: number;
  accepted: number;
  retried: number;
  failed: number;
  statuses: Record<string, number>;
  seconds: number;
  dataset: Dataset;
}

export interface LocustRun {
  /** Locust's exit code: 0 all accepted, 1 some not, 2 refused to start (the artifact). */
  code: number;
  results?: LocustResults;
  stderr: string;
  dir: string;
}

/** Runs Locust headless (or with its web UI on 127.0.0.1) until the file is exhausted. */
export function runLocust(o: {
  locust: string;
  host: string;
  users: number;
  /** the artifact's reference, pulled at start; or the folder it was pulled to */
  artifact?: string;
  artifactDir?: string;
  registry?: Registry;
  oras?: string;
  idPrefix?: string;
  dir: string;
  ui?: boolean;
  /** Locust's own cap on the run, a bound on a hung target (not a speed) */
  runTimeSec?: number;
  quiet?: boolean;
}): Promise<LocustRun> {
  mkdirSync(o.dir, { recursive: true });
  const results = join(o.dir, 'results.json');
  rmSync(results, { force: true });
  const args = [
    '-f',
    LOCUSTFILE,
    '--host',
    o.host,
    '--users',
    String(o.users),
    '--spawn-rate',
    String(o.users),
    '--run-time',
    `${o.runTimeSec ?? 1800}s`,
    '--csv',
    join(o.dir, 'locust'),
    '--html',
    join(o.dir, 'locust.html'),
    '--results',
    results,
    ...(o.ui ? ['--web-host', '127.0.0.1', '--web-port', String(TOOL_PORTS.locustUi), '--autostart'] : ['--headless', '--only-summary']),
    ...(o.artifact ? ['--artifact', o.artifact] : []),
    ...(o.artifactDir ? ['--artifact-dir', o.artifactDir] : []),
    ...(o.oras ? ['--oras', o.oras] : []),
    ...(o.idPrefix ? ['--id-prefix', o.idPrefix] : []),
    ...(o.registry ? ['--registry-user', o.registry.user, '--plain-http'] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(o.locust, args, {
      stdio: ['ignore', o.quiet ? 'pipe' : 'inherit', 'pipe'],
      // the password by environment, never on a command line
      env: { ...process.env, ...(o.registry ? { LOADTEST_REGISTRY_PASSWORD: o.registry.password } : {}) },
    });
    const err: Buffer[] = [];
    child.stderr!.on('data', (b: Buffer) => {
      err.push(b);
      if (!o.quiet) process.stderr.write(b);
    });
    child.stdout?.resume();
    child.on('error', reject);
    child.on('exit', (code) => {
      const stderr = Buffer.concat(err).toString('utf8');
      writeFileSync(join(o.dir, 'locust.log'), stderr);
      resolve({
        code: code ?? 1,
        results: existsSync(results) ? (JSON.parse(readFileSync(results, 'utf8')) as LocustResults) : undefined,
        stderr,
        dir: o.dir,
      });
    });
  });
}

export interface LocustCheck {
  /** per path: GET /stats' increase per (municipality, weather) */
  increase: Record<string, BreakdownOf<WeatherDomain>>;
  /** per path: the cells where the increase differs from the file's manifest */
  differences: Record<string, string[]>;
  exact: boolean;
  waitedMs: number;
}

/**
 * After a run: waits until every path counted what the API accepted, then
 * compares each path's increase per (municipality, weather) with the file's
 * manifest. Exact only when every tweet was accepted and every cell matches.
 */
export async function checkCounts(
  url: string,
  before: Awaited<ReturnType<typeof fetchStats<WeatherDomain>>>,
  r: LocustResults,
  paths: readonly string[],
  guardMs: number,
): Promise<LocustCheck> {
  // the file's domain: its breakdown is per municipality and weather, or per category
  const domain = domains[r.dataset.domain ?? 'weather'] as unknown as WeatherDomain;
  const expected = Object.fromEntries(paths.map((p) => [p, r.accepted]));
  const { stats, waitedMs } = await waitForCounts<WeatherDomain>(url, before, expected, guardMs);
  const increase: Record<string, BreakdownOf<WeatherDomain>> = {};
  const differences: Record<string, string[]> = {};
  for (const p of paths as (keyof typeof stats.paths)[]) {
    const inc = breakdownDelta(domain, before.paths[p], stats.paths[p]);
    increase[p] = inc;
    differences[p] = [];
    for (const [m, row] of Object.entries(r.dataset.counts) as [keyof typeof inc, Record<string, number>][]) {
      for (const [w, n] of Object.entries(row)) {
        const got = (inc[m] as Record<string, number>)[w]!;
        if (got !== n) differences[p].push(`${m}/${w}: ${got}, the file has ${n}`);
      }
    }
  }
  const exact = r.accepted === r.count && Object.values(differences).every((d) => d.length === 0);
  return { increase, differences, exact, waitedMs };
}

/** Our summary after Locust's: what was sent, retried, and whether the counts match the file. */
export function renderCheck(r: LocustResults, c: LocustCheck, paths: readonly string[]): string {
  const domain = domains[r.dataset.domain ?? 'weather'];
  const cells = domain.groupBy === domain.countBy ? domain.groupBy : `${domain.groupBy} and ${domain.countBy}`;
  const lines = [
    `input: ${r.count} tweets (seed ${r.dataset.seed}, sha256 ${r.dataset.sha256.slice(0, 16)}...)`,
    `sent ${r.sent}, accepted ${r.accepted}, retried ${r.retried} (503 or no answer, same Idempotency-Key), failed ${r.failed}, in ${r.seconds} s (${Math.round(r.accepted / Math.max(r.seconds, 0.001))} tweets/s)`,
  ];
  for (const p of paths) {
    const d = c.differences[p]!;
    const total = Object.values(c.increase[p]!).reduce(
      (s, row) => s + Object.values(row as Record<string, number>).reduce((a, b) => a + b, 0),
      0,
    );
    lines.push(
      `${p}: counted ${total} of the file's ${r.count}; per ${cells} ${d.length === 0 ? 'exactly as the file' : `differs in ${d.length} cells: ${d.slice(0, 5).join('; ')}`}`,
    );
  }
  lines.push(c.exact ? `EXACT: every ${domain.item} of the file counted once on ${paths.join(' and ')}` : 'NOT EXACT: see above');
  return lines.join('\n');
}
