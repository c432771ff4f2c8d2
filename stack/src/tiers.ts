/**
 * The test tiers (test/README.md): which compiled files each runs, in what order, against which stack or
 * node; `npm test` and `npm run test:unit` run them through the CLI.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureK8sTools } from './k8s.js';
import { layout, ROOT } from './layout.js';
import { say, startStack, stopStack } from './lifecycle.js';
import { provisionImages } from './provision.js';
import { stopRegistry } from './registry.js';
import { alive } from './state.js';

/**
 * The integration tier's files that run after the others, each alone and in this order (node --test runs the
 * files it is given in an order of its own): the faults restart the stack's brokers; the loss of a node
 * starts the stack again with Kafka and RabbitMQ on three nodes each.
 */
const LAST = ['chaos.test.js', 'node-loss.test.js'];

/** The workspaces of the tooling: their tests are beside them (test/ for the unit tier, test/integration for the stack's). */
const TOOLING = ['loadgen', 'stack', 'bench'];

/**
 * The compiled test files of a tier. unit: every workspace's tests but the `test` workspace's, pure logic
 * and services over fakes, no broker needed. integration: test/integration and the tooling's own
 * test/integration, against a running stack, LAST after the rest. cluster: test/cluster, against the
 * Kubernetes node.
 */
export function testFiles(tier: 'unit' | 'integration' | 'last' | 'cluster'): string[] {
  const inDir = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .sort()
          .filter((f) => f.endsWith('.test.js'))
          .map((f) => join(dir, f))
      : [];
  if (tier === 'cluster') {
    // the teardown last: it takes the node down
    const files = inDir(join(ROOT, 'test', 'dist', 'cluster'));
    return [...files.filter((f) => !f.endsWith('teardown.test.js')), ...files.filter((f) => f.endsWith('teardown.test.js'))];
  }
  if (tier === 'integration' || tier === 'last') {
    const dirs = [join(ROOT, 'test', 'dist', 'integration'), ...TOOLING.map((ws) => join(ROOT, ws, 'dist', 'test', 'integration'))];
    const files = dirs.flatMap(inDir);
    if (tier === 'last') return LAST.flatMap((x) => files.filter((f) => f.endsWith(`/${x}`)));
    return files.filter((f) => !LAST.some((x) => f.endsWith(`/${x}`)));
  }
  const files: string[] = [];
  for (const group of ['packages', 'services'])
    for (const ws of readdirSync(join(ROOT, group)).sort()) files.push(...inDir(join(ROOT, group, ws, 'dist', 'test')));
  for (const ws of TOOLING) files.push(...inDir(join(ROOT, ws, 'dist', 'test')));
  return files;
}

function runTests(files: string[], env: Record<string, string> = {}): Promise<number> {
  return new Promise<number>((resolve) => {
    // --test-force-exit: a file whose tests are done ends, even if a failure left a connection open
    // (a failed test must fail the run, never hang it).
    const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-force-exit', '--test-reporter=spec', ...files], {
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    child.once('exit', (c) => resolve(c ?? 1));
  });
}

/** `npm run test:unit`: every test that needs no broker, with nothing started. */
export async function unitTests(): Promise<number> {
  const files = testFiles('unit');
  say(`running ${files.length} unit test files (no broker)`);
  return runTests(files);
}

/**
 * Starts a fresh `test` stack beside any other, runs both tiers against it (the unit tier first), and stops
 * it; then, with `cluster`, the cluster tier.
 */
async function test(cluster: boolean): Promise<number> {
  const l = layout('test');
  await stopStack(l);
  rmSync(l.dir, { recursive: true, force: true });
  try {
    // The image tests need Podman and friends: installed here as root, or the command to run is printed.
    provisionImages();
    // The Kubernetes test's API server, etcd, kubeconform and schemas: built once (minutes), then cached in .tools/k8s.
    ensureK8sTools(say);
    await startStack(l);
  } catch (err) {
    console.error(`[stack] ${(err as Error).message}`);
    await stopStack(l);
    return 1;
  }
  const files = [...testFiles('unit'), ...testFiles('integration')];
  say(`running ${files.length} test files, the unit tier and the integration tier, against stack ${l.name}`);
  let code = await runTests(files, { STACK: 'test' });
  for (const f of testFiles('last')) code = Math.max(code, await runTests([f], { STACK: 'test' }));
  await stopStack(l);
  // The image tests start the local registry: it stops with the run.
  if (stopRegistry()) say('registry: stopped');
  return cluster ? Math.max(code, await clusterTier()) : code;
}

/**
 * The cluster tier: the system on the Kubernetes node of `npm run cluster`. A node already up is used
 * and left up; otherwise one is brought up for the tier, and its teardown (the tier's last test) takes it
 * down and checks the machine is as it was.
 */
async function clusterTier(): Promise<number> {
  const c = await import('./cluster/index.js');
  const owned = !c.isRunning();
  try {
    await c.up();
  } catch (err) {
    console.error(`[stack] the cluster tier could not start: ${(err as Error).message}`);
    if (owned) await c.down();
    return 1;
  }
  const files = testFiles('cluster');
  say(`running ${files.length} test files of the cluster tier against ${c.entryUrl()}`);
  const code = await runTests(files, { CLUSTER_OWNED: owned ? '1' : '' });
  if (owned && c.isRunning()) await c.down();
  return code;
}

/**
 * `npm test`, `--repeat` times in a row. With `--hog`, a busy loop at normal
 * priority keeps one of the cores busy for each whole run (stack start
 * included), so the suite meets the machine it would meet on a slower or
 * shared computer; it is stopped by its PID when the run ends.
 */
export async function testRuns(f: { hog: boolean; repeat: number; unit: boolean; cluster: boolean }): Promise<number> {
  const runs: string[] = [];
  let code = 0;
  for (let run = 1; run <= f.repeat && code === 0; run++) {
    const hog = f.hog ? spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }) : undefined;
    if (hog) say(`CPU hog: pid ${hog.pid}, one core busy at normal priority for the whole run`);
    const t0 = Date.now();
    try {
      code = f.unit ? await unitTests() : await test(f.cluster);
    } finally {
      if (hog?.pid && alive(hog.pid)) process.kill(hog.pid, 'SIGKILL');
    }
    runs.push(
      `run ${run} of ${f.repeat}${hog ? ' (with a CPU hog)' : ''}: ${code === 0 ? 'pass' : 'FAIL'} in ${Math.round((Date.now() - t0) / 1000)} s`,
    );
    say(runs.at(-1)!);
  }
  if (runs.length > 1) for (const r of runs) say(r);
  return code;
}
