import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { DOMAIN_NAMES, domains, type Domain, type DomainName, type WeatherDomain } from '@tweets/domain';
import { fetchStats, renderSummary, runLoad, summarize, waitForCounts } from '@tweets/loadgen';
import { layout, ROOT, type StackLayout } from './layout.js';
import { ALL_FAULTS, NODE_LOSS_FAULTS, QUICK_FAULTS, QUICK_NODE_LOSS_FAULTS, renderReport, runChaos } from './chaos.js';
import { ROUTES, type Route } from './components.js';
import { buildImages, ImagesError, imageTag, podman, renderImages } from './images.js';
import { dashboards, render as renderDashboard } from '@tweets/dashboards';
import { ensureK8sTools, K8sError, validateAll } from './k8s.js';
import { artifactExists, artifactTag, buildDataset, datasetDir, DEFAULT_COUNT, orasBinary, pushArtifact, REPOSITORY } from './loadtest.js';
import { checkCounts, ensureLocust, renderCheck, runLocust } from './locust.js';
import { provision, provisionImages, provisionRegistry, ProvisionError } from './provision.js';
import { ensureRegistry, servedDigest, stopRegistry } from './registry.js';
import { TOOL_PORTS } from './ports.js';
import { readState } from './state.js';
import { say, stackStatus, startStack, stopStack } from './lifecycle.js';
import { testRuns } from './tiers.js';
import { tempDir } from './roots.js';

const USAGE = `usage: npm start [-- --no-load] [--route ${ROUTES.join('|')}] [--domain ${DOMAIN_NAMES.join('|')}] [--writers N] [--apis N] [--replicated]
       npm stop | npm run status | npm run provision
       npm run load [-- --count N --concurrency N] [--target URL]
       npm run chaos [-- --quick] [--replicated] [--count N --rate R --concurrency N]
       npm test [-- --hog] [--repeat N] [--no-cluster]   (npm run test:slow: npm test -- --hog)
       npm run test:unit                     (the tests that need no broker)
       npm run lint                          (ESLint over every workspace's TypeScript, eslint.config.js)
       npm run images [-- --push] [--base IMAGE] [--tag TAG] [--platform OS/ARCH]
       npm run artifact -- build|push [--count N] [--seed S] [--domain D] [--to HOST:PORT]
       npm run locust [-- --host URL] [--users N] [--count N] [--seed S] [--domain D] [--ui] [--cluster]
       npm run dashboards [-- check]
       npm run cluster [-- up|down|status|ingress] [--overlay local|local-blackfriday] [--components a,b]
       npm run k8s [-- --tools]              (deploy/k8s: kustomize, kubeconform, API server dry runs)`;

/** A command line the CLI cannot take: its message is all the user needs. */
class UsageError extends Error {}

const text = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;
/** A command's input: how the load is sent and counted (start's load too). */
const LOAD = { count: text, concurrency: text, target: text, route: text, domain: text } as const;

type Flags = Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>;
/** What parseArgs gives for a command's flags: a string or a boolean each, absent when not given. */
type Values<F extends Flags> = { [K in keyof F]?: F[K] extends { type: 'boolean' } ? boolean : string };
type Parsed = Record<string, string | boolean | undefined>;
type Run = (v: Parsed, l: StackLayout, positional: string[]) => Promise<number> | number;
/** A command: its flags, and what it does with their values (typed from the flags: parse gives exactly those). */
const command = <F extends Flags>(
  flags: F,
  run: (v: Values<F>, l: StackLayout, positional: string[]) => Promise<number> | number,
): { flags: F; run: Run } => ({ flags, run: run as unknown as Run });

/**
 * A command's flags, as node:util parseArgs reads them (`--no-<flag>` negates a boolean), beside `--stack`
 * (default: $STACK, else local), which every command takes; a flag another command takes is an error.
 */
function parse(flags: Flags, args: string[]): { values: Parsed; positional: string[] } {
  try {
    const r = parseArgs({ args, options: { ...flags, stack: text }, allowPositionals: true, allowNegative: true, strict: true });
    return { values: r.values, positional: r.positionals };
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`, { cause: err });
  }
}

/** An integer flag within its range, or its default when absent. */
function int(v: string | undefined, name: string, [min, max]: [number, number], fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}; got ${v}`);
  return n;
}

/** A flag that names one of `allowed`, or `fallback` when absent. */
function pick<T extends string, F extends T | undefined>(v: string | undefined, name: string, allowed: readonly T[], fallback: F): T | F {
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}; got ${v}`);
  return v as T;
}

/** A positive number flag, or its default when absent. */
function positive(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!(Number(v) > 0)) throw new UsageError(`--${name} must be a positive number; got ${v}`);
  return Number(v);
}

/** How `load` (and `start` after it) sends the seed's load and counts it. */
interface LoadOptions {
  /** The API's base URL, instead of the local stack's (any deployment's: the GKE ingress). */
  target: string;
  count: number;
  concurrency: number;
  route: Route;
  /** Unset: the running stack's domain, or weather. */
  domain: DomainName | undefined;
}

function loadOptions(v: {
  count?: string;
  concurrency?: string;
  target?: string;
  host?: string;
  route?: string;
  domain?: string;
}): LoadOptions {
  return {
    target: (v.target ?? v.host ?? '').replace(/\/+$/, ''),
    count: int(v.count, 'count', [1, 10_000_000], 0),
    concurrency: int(v.concurrency, 'concurrency', [1, 1000], 0),
    route: pick(v.route, 'route', ROUTES, 'both'),
    domain: pick(v.domain, 'domain', DOMAIN_NAMES, undefined),
  };
}

/** The domain a command works on: --domain, else the running stack's, else weather. */
function domainOf(l: StackLayout, domain: DomainName | undefined): Domain {
  return domains[domain ?? ((readState(l)?.domain as DomainName | undefined) || 'weather')];
}

/** The seed's load (10,000 items, 10 clients), then the summary read back from /stats. */
async function load(l: StackLayout, o: LoadOptions): Promise<number> {
  // --target: any deployment's API (the GKE ingress), checked the same way as the local stack
  const url = o.target || l.apiUrl;
  const d = domainOf(l, o.domain);
  const before = await fetchStats(url);
  const count = o.count || 10_000;
  const concurrency = o.concurrency || 10;
  say(`sending ${count} ${d.item}s from ${concurrency} concurrent clients to ${url}${d.resource}`);
  const result = await runLoad({ domain: d, url, count, concurrency, idPrefix: `load-${Date.now()}`, seed: Date.now() });
  const paths = o.route === 'both' ? d.paths : [o.route];
  const expected = Object.fromEntries(paths.map((p) => [p, result.accepted]));
  const { stats, reached, waitedMs } = await waitForCounts(url, before, expected, 180_000);
  const summary = summarize(d, result, before, stats, waitedMs);
  console.log(`\n${renderSummary(d, summary, stats)}\n`);
  mkdirSync(join(l.dir, 'runs'), { recursive: true });
  const file = join(l.dir, 'runs', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ summary, stats }, null, 2));
  say(`summary written to ${file}`);
  if (!reached) {
    console.error(`[stack] counts did not reach the accepted total within 180 s: ${JSON.stringify(summary.counted)}`);
    return 1;
  }
  return summary.failed === 0 && summary.accepted === summary.sent ? 0 : 1;
}

/** `npm run images`: every service image, built and listed; with --push, pushed to the local registry and checked by digest. */
async function images(f: { push?: boolean; base?: string; tag?: string; platform?: string }): Promise<number> {
  const built = buildImages({ base: f.base, tag: f.tag, platform: f.platform, log: say });
  console.log(`\n${renderImages(built)}\n`);
  if (!f.push) return 0;
  const r = await ensureRegistry(say);
  const tag = f.tag || imageTag();
  let ok = true;
  for (const i of built) {
    const repository = `tweets/${i.service}`;
    const digestFile = join(tempDir('push-'), 'digest');
    podman([
      'push',
      '--tls-verify=false',
      '--creds',
      `${r.user}:${r.password}`,
      '--digestfile',
      digestFile,
      i.ref,
      `docker://${r.address}/${repository}:${tag}`,
    ]);
    const pushed = readFileSync(digestFile, 'utf8').trim();
    const served = await servedDigest(r, repository, tag);
    ok &&= pushed === served;
    say(`pushed ${r.address}/${repository}:${tag} ${pushed}${pushed === served ? '' : ` but the registry serves ${served}`}`);
  }
  return ok ? 0 : 1;
}

/** `npm run artifact -- build|push`: the load test's input file, and its OCI artifact in the local registry. */
async function artifact(sub: string, f: { count: number; seed: number; domain: DomainName; to: string }): Promise<number> {
  if (sub !== 'build' && sub !== 'push') throw new UsageError(`npm run artifact -- build|push; got ${sub}\n${USAGE}`);
  const count = f.count || DEFAULT_COUNT;
  const domain = domains[f.domain];
  const dir = datasetDir(count, f.seed, domain.name as DomainName);
  const d = buildDataset(dir, count, f.seed, domain);
  say(`${join(relative(ROOT, dir), 'tweets.jsonl')}: ${d.count} ${domain.item}s from seed ${d.seed}, sha256 ${d.sha256}`);
  if (sub === 'build') return 0;
  // --to HOST:PORT: another registry (Zot on its VM; deploy/gke/up.sh), its login from the environment
  const user = process.env.LOADTEST_REGISTRY_USER;
  const password = process.env.LOADTEST_REGISTRY_PASSWORD;
  if (f.to && (!user || !password))
    throw new Error('--to needs the registry login in LOADTEST_REGISTRY_USER and LOADTEST_REGISTRY_PASSWORD');
  if (!f.to) provisionRegistry();
  const r = f.to ? { address: f.to, user: user!, password: password! } : await ensureRegistry(say);
  const p = pushArtifact(orasBinary(say), r, dir, d, imageTag());
  say(`pushed ${p.reference}\n  manifest ${p.digest}\n  layer    ${p.layerDigest} (tweets.jsonl)`);
  return p.layerDigest === `sha256:${d.sha256}` ? 0 : 1;
}

/**
 * `npm run locust`: the input file pushed to the local registry if it is not
 * there, Locust pulling and checking it, sending it with 10 users, then the
 * counts in GET /stats compared with the file.
 */
async function locust(l: StackLayout, f: LoadOptions & { cluster: boolean; seed: number; ui: boolean }): Promise<number> {
  if (f.cluster) {
    const c = await import('./cluster/index.js');
    const { locustInCluster } = await import('./cluster/locust.js');
    const run = await locustInCluster(c.clusterKubectl(), c.entryUrl(), { count: f.count || undefined, seed: f.seed, say });
    console.log(`\n${run.report}\n`);
    return run.check?.exact ? 0 : 1;
  }
  const url = f.target || l.apiUrl;
  const count = f.count || DEFAULT_COUNT;
  const domain = domainOf(l, f.domain);
  const bin = ensureLocust(say);
  provisionRegistry();
  const r = await ensureRegistry(say);
  const orasBin = orasBinary(say);
  const dir = datasetDir(count, f.seed, domain.name as DomainName);
  const reference = `${r.address}/${REPOSITORY}:${artifactTag(count, f.seed, domain.name as DomainName)}`;
  if (!artifactExists(orasBin, r, reference)) {
    const d = buildDataset(dir, count, f.seed, domain);
    const p = pushArtifact(orasBin, r, dir, d, imageTag());
    say(`pushed the input file as ${p.reference} (${p.digest})`);
  }
  const before = await fetchStats<WeatherDomain>(url);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const runDir = join(l.dir, 'runs', `locust-${stamp}`);
  const users = f.concurrency || 10;
  say(`Locust: ${users} users send ${reference} to ${url}${f.ui ? ` (web UI on http://127.0.0.1:${TOOL_PORTS.locustUi})` : ''}`);
  const run = await runLocust({
    locust: bin,
    host: url,
    users,
    artifact: reference,
    registry: r,
    oras: orasBin,
    idPrefix: `${stamp}:`,
    dir: runDir,
    ui: f.ui,
  });
  if (!run.results || run.code === 2) {
    say(`Locust did not run the file (exit ${run.code}); its log: ${join(runDir, 'locust.log')}`);
    return 1;
  }
  const paths = f.route === 'both' ? domain.paths : [f.route];
  const check = await checkCounts(url, before, run.results, paths, 180_000);
  console.log(`\n${renderCheck(run.results, check, paths)}\n`);
  writeFileSync(join(runDir, 'check.json'), JSON.stringify({ results: run.results, check }, null, 2));
  say(`Locust's CSV and HTML reports, and this check: ${relative(ROOT, runDir)}`);
  return check.exact ? 0 : 1;
}

/** `npm run dashboards`: the Grafana dashboards generated from code into deploy/grafana (--check: only compare). */
function writeDashboards(check: boolean): number {
  const dir = join(ROOT, 'deploy', 'grafana');
  let stale = 0;
  for (const [file, d] of Object.entries(dashboards())) {
    const text = renderDashboard(d);
    const path = join(dir, file);
    mkdirSync(join(path, '..'), { recursive: true });
    const same = existsSync(path) && readFileSync(path, 'utf8') === text;
    if (check) {
      if (!same) stale++;
      say(`${relative(ROOT, path)}: ${same ? 'as the code generates it' : 'DIFFERS from what the code generates: npm run dashboards'}`);
    } else if (!same) {
      writeFileSync(path, text);
      say(`wrote ${relative(ROOT, path)}`);
    } else say(`${relative(ROOT, path)}: unchanged`);
  }
  return stale === 0 ? 0 : 1;
}

/** `npm run k8s`: every variant of deploy/k8s built, kubeconform'd and dry-run on a real API server. */
async function k8s(tools: boolean): Promise<number> {
  if (tools) {
    ensureK8sTools(say);
    return 0;
  }
  const { results, crds, seconds } = await validateAll(say);
  const failed = results.filter((r) => !r.kubeconform.ok || !r.dryRun.ok);
  for (const r of failed) {
    if (!r.kubeconform.ok) console.error(`\n[kubeconform] ${r.name}\n${r.kubeconform.output}`);
    if (!r.dryRun.ok) console.error(`\n[dry run] ${r.name}\n${r.dryRun.output}`);
  }
  say(
    `${results.length - failed.length} of ${results.length} variants pass kubeconform and the API server's dry run${crds ? '' : ' (without the CRD kinds)'}; ` +
      `tools ${Math.round(seconds.tools)} s, checks ${Math.round(seconds.checks)} s`,
  );
  return failed.length === 0 ? 0 : 1;
}

/** `npm run cluster [-- up|down|status|ingress] [--components a,b]`: the system on a Kubernetes node here. */
async function cluster(sub: string, f: { overlay?: string; components?: string }): Promise<number> {
  const c = await import('./cluster/index.js');
  if (sub === 'up') {
    await c.up((f.components ?? '').split(',').filter(Boolean), f.overlay || 'local');
    return 0;
  }
  if (sub === 'down') return Object.keys((await c.down()).left).length === 0 ? 0 : 1;
  if (sub === 'status') return c.status();
  if (sub === 'ingress') {
    const { ingressConfig, INGRESS_CONF } = await import('./cluster/deploy.js');
    writeFileSync(INGRESS_CONF, ingressConfig(c.clusterKubectl()));
    say(`wrote ${relative(ROOT, INGRESS_CONF)}`);
    return 0;
  }
  throw new UsageError(`npm run cluster -- up|down|status|ingress; got ${sub}`);
}

/**
 * The full node-loss run's result, for the report's table: bench/results/<time>-<commit>-node-loss.json, the
 * date, commit and machine first (as a benchmark's result).
 */
function writeNodeLossResult(report: object): string {
  const sha = imageTag();
  const file = join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}-${sha}-node-loss.json`);
  writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), commit: sha, machine: { cores: cpus().length }, ...report }, null, 2),
  );
  return file;
}

/** The fault-injection run: the full one writes docs/reliability.md; --quick is the short variant. */
async function chaos(
  l: StackLayout,
  f: { count: number; rate: number; concurrency: number; quick: boolean; replicated: boolean },
): Promise<number> {
  const opts = {
    count: f.count || (f.quick ? 20_000 : 100_000),
    rate: f.rate || 1000,
    concurrency: f.concurrency || 200,
    faults: f.replicated ? (f.quick ? QUICK_NODE_LOSS_FAULTS : NODE_LOSS_FAULTS) : f.quick ? QUICK_FAULTS : ALL_FAULTS,
    gapTweets: f.quick ? 2000 : 3000,
    log: say,
  };
  const report = await runChaos(l, opts);
  const flags = [...(f.quick ? ['--quick'] : []), ...(f.replicated ? ['--replicated'] : [])];
  const command = `npm run chaos${flags.length ? ` -- ${flags.join(' ')}` : ''}`;
  const md = renderReport(
    report,
    command,
    f.replicated ? "Losing a node under load: a Kafka node and a RabbitMQ node of three, Valkey's primary" : undefined,
  );
  mkdirSync(join(l.dir, 'runs'), { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  writeFileSync(join(l.dir, 'runs', `chaos-${stamp}.json`), JSON.stringify(report, null, 2));
  const out = f.quick ? join(l.dir, 'runs', `chaos-${stamp}.md`) : join(ROOT, 'docs', f.replicated ? 'node-loss.md' : 'reliability.md');
  // the result file first: it names the commit, which the report written next would make look changed
  if (f.replicated && !f.quick) say(`result written to ${writeNodeLossResult(report)}`);
  writeFileSync(out, md);
  console.log(`\n${md}`);
  say(`report written to ${out}`);
  return report.passed ? 0 : 1;
}

/** `npm run lint`: Prettier's check of the TypeScript's layout (.prettierrc.json), then ESLint (eslint.config.js), under this Node.js. */
async function lint(): Promise<number> {
  const tool = (script: string[], args: string[]) =>
    new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, 'node_modules', ...script), ...args], { cwd: ROOT, stdio: 'inherit' });
      child.on('exit', (code) => resolve(code ?? 1));
    });
  const layout = await tool(['prettier', 'bin', 'prettier.cjs'], ['--check', '--log-level', 'warn', '.']);
  const rules = await tool(['eslint', 'bin', 'eslint.js'], ['--max-warnings', '0', '.']);
  const clean = layout === 0 && rules === 0;
  say(
    clean
      ? 'lint: clean'
      : `lint: ${layout ? 'layout (npx prettier --write . fixes it)' : ''}${layout && rules ? ' and ' : ''}${rules ? 'rules' : ''}: problems above`,
  );
  return clean ? 0 : 1;
}

/** Every command: its own flags, and what it does with them (each flag checked before anything starts). */
const COMMANDS: Record<string, { flags: Flags; run: Run }> = {
  start: command({ ...LOAD, load: flag, writers: text, apis: text, replicated: flag }, async (v, l) => {
    const shape = {
      route: pick(v.route, 'route', ROUTES, 'both'),
      domain: pick(v.domain, 'domain', DOMAIN_NAMES, undefined),
      writers: int(v.writers, 'writers', [1, 4], 1),
      apis: int(v.apis, 'apis', [0, 3], 0),
      replicated: v.replicated ?? false,
    };
    const seedLoad = loadOptions(v);
    await startStack(l, shape);
    return v.load === false ? 0 : await load(l, seedLoad);
  }),
  stop: command({}, async (_, l) => {
    await stopStack(l);
    if (stopRegistry()) say('registry: stopped');
    return 0;
  }),
  status: command({}, (_, l) => stackStatus(l)),
  load: command(LOAD, (v, l) => load(l, loadOptions(v))),
  chaos: command({ quick: flag, replicated: flag, count: text, rate: text, concurrency: text, route: text }, async (v, l) => {
    const quick = v.quick ?? false;
    const o = {
      count: int(v.count, 'count', [1, 10_000_000], quick ? 20_000 : 100_000),
      rate: positive(v.rate, 'rate', 1000),
      concurrency: int(v.concurrency, 'concurrency', [1, 1000], 200),
      quick,
      replicated: v.replicated ?? false,
    };
    await startStack(l, { route: pick(v.route, 'route', ROUTES, 'both'), replicated: o.replicated });
    return await chaos(l, o);
  }),
  test: command({ hog: flag, repeat: text, unit: flag, cluster: flag }, (v) =>
    testRuns({ hog: v.hog ?? false, repeat: int(v.repeat, 'repeat', [1, 100], 1), unit: v.unit ?? false, cluster: v.cluster ?? true }),
  ),
  lint: command({}, () => lint()),
  provision: command({ images: flag }, (v, l) => {
    provision(l);
    say('provisioned: Valkey, RabbitMQ, Java, Maven and the Kafka jars are in place');
    if (v.images) {
      provisionImages();
      say('provisioned for images: Podman, Buildah, runc, debootstrap and htpasswd are in place');
    }
    return 0;
  }),
  images: command({ push: flag, base: text, tag: text, platform: text }, (v) => images(v)),
  artifact: command({ count: text, seed: text, domain: text, to: text }, (v, _, positional) =>
    artifact(positional[0] ?? 'push', {
      count: int(v.count, 'count', [1, 10_000_000], 0),
      seed: int(v.seed, 'seed', [0, 2 ** 31], 1),
      domain: pick(v.domain, 'domain', DOMAIN_NAMES, 'weather'),
      to: v.to ?? '',
    }),
  ),
  locust: command({ ...LOAD, host: text, users: text, seed: text, ui: flag, cluster: flag }, (v, l) =>
    locust(l, {
      ...loadOptions(v),
      concurrency: int(v.users ?? v.concurrency, v.users ? 'users' : 'concurrency', [1, 1000], 0),
      cluster: v.cluster ?? false,
      seed: int(v.seed, 'seed', [0, 2 ** 31], 1),
      ui: v.ui ?? false,
    }),
  ),
  dashboards: command({}, (_, __, positional) => writeDashboards(positional[0] === 'check')),
  cluster: command({ overlay: text, components: text }, (v, _, positional) => cluster(positional[0] ?? 'up', v)),
  k8s: command({ tools: flag }, (v) => k8s(v.tools ?? false)),
};

/** Runs one command with its own flags; 2 for an unknown command. */
async function run(cmd: string, args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h') || cmd === 'help') {
    console.log(USAGE);
    return 0;
  }
  const c = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd]! : undefined;
  if (!c) {
    console.error(USAGE);
    return 2;
  }
  const { values, positional } = parse(c.flags, args);
  return await c.run(values, layout((values.stack as string | undefined) ?? process.env.STACK ?? 'local'), positional);
}

export async function main(argv: string[]): Promise<number> {
  const [cmd = '', ...rest] = argv;
  try {
    return await run(cmd, rest);
  } catch (err) {
    if (err instanceof ProvisionError || err instanceof ImagesError || err instanceof K8sError || err instanceof UsageError)
      console.error(`[stack] ${err.message}`);
    else console.error(`[stack] ${(err as Error).stack ?? err}`);
    return 1;
  }
}
