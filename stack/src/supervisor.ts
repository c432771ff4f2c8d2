/**
 * The stack's supervisor: a detached process that starts every component in
 * dependency order, waits for each to be ready, restarts any that exits
 * unexpectedly (as Kubernetes would), and on SIGTERM stops them all in
 * reverse order, each by its own PID. Its state is in <stack>/state.json.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backgroundPolicy, components, describeShape, launchLine, shapeOf, type Component, type StackShape } from './components.js';
import { nodeProcesses } from './cluster/node.js';
import { CLUSTER, clusterLayout } from './cluster/plan.js';
import { layout, type RunLayout } from './layout.js';
import { CHRT } from './provision.js';
import { writeState, type StackState } from './state.js';

const name = process.argv[2] ?? 'local';
/** What it runs (the CLI passes it as JSON); a reconfigure replaces it. */
let shape: StackShape = shapeOf(JSON.parse(process.argv[3] ?? '{}') as Partial<StackShape>);
/** A stack's processes, or the Kubernetes node's (`npm run cluster`). */
const cluster = name === CLUSTER;
const l: RunLayout = cluster ? clusterLayout() : layout(name);
mkdirSync(l.logs, { recursive: true });
const list = cluster ? nodeProcesses() : components(layout(name), shape);
const policy = () => backgroundPolicy(shape.profile);
const children = new Map<string, ChildProcess>();
/** Children stopped on purpose (a reconfigure): their exit is not a crash to restart. */
const retiring = new WeakSet<ChildProcess>();
let stopping = false;
let lastFailure = '';

const state: StackState = {
  supervisorPid: process.pid,
  status: 'starting',
  ...shape,
  components: Object.fromEntries(
    list.map((c) => [c.name, { pid: null, status: 'stopped', restarts: 0, log: join(l.logs, `${c.name}.log`) }]),
  ),
};
const save = () => writeState(l, state);
const say = (msg: string) => console.log(`${new Date().toISOString()} ${msg}`);

function start(c: Component): ChildProcess {
  const fd = openSync(join(l.logs, `${c.name}.log`), 'a');
  const line = launchLine(c, policy());
  const child = spawn(line.command, line.args, {
    cwd: l.dir,
    env: { ...process.env, ...c.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  children.set(c.name, child);
  const cs = state.components[c.name]!;
  cs.pid = child.pid ?? null;
  cs.status = 'starting';
  save();
  say(`${c.name}: started, pid ${child.pid}${line.command === c.command ? '' : ` (${policy()} priority)`}`);
  child.once('exit', (code, signal) => {
    if (children.get(c.name) === child) children.delete(c.name);
    if (stopping || retiring.has(child)) return;
    cs.pid = null;
    cs.status = 'restarting';
    cs.restarts++;
    save();
    const delay = Math.min(250 * 2 ** Math.min(cs.restarts - 1, 4), 4000);
    say(`${c.name}: exited (code ${code}, signal ${signal}); restarting in ${delay} ms`);
    void sleep(delay).then(async () => {
      if (stopping) return;
      start(c);
      if (await waitReady(c)) {
        cs.status = 'ready';
        save();
        say(`${c.name}: ready again`);
      }
    });
  });
  return child;
}

async function waitReady(c: Component): Promise<boolean> {
  const t0 = Date.now();
  let deadline = t0 + c.readyTimeoutMs;
  const loadingDeadline = t0 + Math.max(c.readyTimeoutMs, c.loadingTimeoutMs ?? 0);
  let loading = false;
  const child = children.get(c.name);
  while (Date.now() < deadline && !stopping) {
    if (!child || child.exitCode !== null || child.signalCode !== null || children.get(c.name) !== child) {
      lastFailure = `${c.name} exited while starting (code ${child?.exitCode}, signal ${child?.signalCode})`;
      return false;
    }
    const r = await c.ready();
    if (r === true) return true;
    if (r === 'loading') {
      // Up and loading its data: that is progress, so the wait goes on (within its own bound).
      if (!loading) say(`${c.name}: loading its data; waiting up to ${Math.round((loadingDeadline - t0) / 1000)} s in all`);
      loading = true;
      deadline = Math.max(deadline, Math.min(loadingDeadline, Date.now() + 1000));
    }
    await sleep(200);
  }
  lastFailure = `${c.name} was not ready within ${Math.round((Date.now() - t0) / 1000)} s${loading ? ' (still loading its data)' : ''}`;
  return false;
}

async function stopOne(c: Component): Promise<void> {
  const child = children.get(c.name);
  const cs = state.components[c.name]!;
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    retiring.add(child);
    child.kill('SIGTERM');
    const graceful = await Promise.race([exited.then(() => true), sleep(c.stopTimeoutMs).then(() => false)]);
    if (!graceful) {
      say(`${c.name}: no exit ${c.stopTimeoutMs} ms after SIGTERM; SIGKILL`);
      child.kill('SIGKILL');
      await exited;
    }
    say(`${c.name}: stopped`);
  }
  cs.pid = null;
  cs.status = 'stopped';
  save();
}

async function stopAll(exitCode: number): Promise<never> {
  stopping = true;
  state.status = 'stopping';
  save();
  for (const c of [...list].reverse()) await stopOne(c);
  state.status = exitCode === 0 ? 'stopped' : 'failed';
  save();
  process.exit(exitCode);
}

process.on('SIGTERM', () => void stopAll(0));
process.on('SIGINT', () => void stopAll(0));

/** Prepares and starts each component in order, each ready before the next; a failure stops the stack. */
async function startInOrder(cs: readonly Component[]): Promise<void> {
  for (const c of cs) {
    try {
      c.prepare?.();
    } catch (err) {
      state.error = `${c.name}: prepare failed: ${(err as Error).message}`;
      say(state.error);
      await stopAll(1);
    }
    const t0 = Date.now();
    start(c);
    if (!(await waitReady(c))) {
      if (stopping) return;
      state.error = `${lastFailure}; see ${state.components[c.name]!.log}`;
      state.components[c.name]!.status = 'failed';
      say(state.error);
      await stopAll(1);
    }
    state.components[c.name]!.status = 'ready';
    save();
    say(`${c.name}: ready in ${Date.now() - t0} ms`);
  }
}

/**
 * SIGHUP: run the services with another shape: route, profile, domain, writer count or API count (from
 * <stack>/reconfigure.json), keeping the brokers and their data. The services
 * stop in reverse order, drain, and start again in order with their new env;
 * a service the new domain has no path for stays stopped.
 */
let reconfiguring = false;
process.on('SIGHUP', () => {
  if (reconfiguring || stopping || state.status !== 'ready') return;
  reconfiguring = true;
  void (async () => {
    const want = shapeOf(JSON.parse(readFileSync(join(l.dir, 'reconfigure.json'), 'utf8')) as Partial<StackShape>);
    say(`reconfiguring services: ${describeShape(want)}`);
    state.status = 'starting';
    save();
    // The services, and what follows them (NGINX, whose upstreams they are), stop and start again.
    const swapped = (c: Component) => c.kind === 'service' || c.followsServices === true;
    for (const c of [...list.filter(swapped)].reverse()) await stopOne(c);
    shape = want;
    const next = components(layout(name), shape);
    // The brokers stay; the new services (and NGINX) in their order; then the other tools.
    list.splice(
      0,
      list.length,
      ...list.filter((c) => c.kind === 'broker'),
      ...next.filter(swapped),
      ...list.filter((c) => c.kind === 'tool' && !swapped(c)),
    );
    for (const c of list) state.components[c.name] ??= { pid: null, status: 'stopped', restarts: 0, log: join(l.logs, `${c.name}.log`) };
    Object.assign(state, shape);
    // The brokers keep running: a background one (Valkey) takes the new profile's policy, every thread.
    for (const c of list) {
      const pid = children.get(c.name)?.pid;
      if (c.kind === 'service' || !c.background || !pid) continue;
      try {
        execFileSync(CHRT, ['--all-tasks', policy() === 'idle' ? '--idle' : '--other', '-p', '0', String(pid)], { stdio: 'ignore' });
        say(`${c.name}: ${policy()} priority`);
      } catch (err) {
        say(`${c.name}: could not set ${policy()} priority: ${(err as Error).message}`);
      }
    }
    await startInOrder(list.filter(swapped));
    if (stopping) return;
    state.status = 'ready';
    save();
    say(`stack ${name}: ready with ${describeShape(shape)}`);
    reconfiguring = false;
  })();
});

save();
say(`stack ${name}: starting ${list.length} components (${describeShape(shape)})`);
await startInOrder(list);
if (!stopping) {
  state.status = 'ready';
  save();
  say(`stack ${name}: ready`);
}
