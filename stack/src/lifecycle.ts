/**
 * A stack's life, as the CLI, the benchmarks and the tests drive it: start (the supervisor detached, then a
 * wait until every process is ready), reconfigure (the services again with another shape, the brokers kept
 * warm), stop and status. The supervisor (supervisor.ts) does the work; this side only asks and waits.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, type RunLayout, type StackLayout } from './layout.js';
import { backgroundPolicy, components, describeShape, sameShape, shapeOf, type StackOptions } from './components.js';
import { provision } from './provision.js';
import { alive, readState } from './state.js';

/** A line of the stack's commands' output. */
export const say = (msg: string) => console.log(`[stack] ${msg}`);

/** How long a start or a reconfigure may take in all: a guard against a hang, far above what a slow machine needs. */
const START_GUARD_MS = 900_000;

/** Starts the stack's supervisor (detached) and waits until every component is ready. */
export async function startStack(l: StackLayout, opts: StackOptions = {}): Promise<void> {
  const want = shapeOf(opts);
  const prev = readState(l);
  if (prev && alive(prev.supervisorPid)) {
    if (!sameShape(shapeOf(prev), want)) throw new Error(`stack ${l.name} is running with ${describeShape(shapeOf(prev))}; npm stop first`);
    say(`stack ${l.name} already running (supervisor pid ${prev.supervisorPid})`);
  } else {
    // A wrong STACK_BACKGROUND, profile or STACK_ENV fails here, not in the detached supervisor.
    backgroundPolicy();
    components(l, want);
    provision(l);
    launchSupervisor(l, JSON.stringify(want));
  }
  await supervised(l);
  say(`stack ${l.name}: API on ${l.apiUrl}`);
}

/** The supervisor of a stack or of the Kubernetes node, started detached, its output in the logs folder. */
export function launchSupervisor(l: RunLayout, arg: string): void {
  mkdirSync(l.logs, { recursive: true });
  rmSync(l.stateFile, { force: true });
  const out = openSync(join(l.logs, 'supervisor.log'), 'a');
  const child = spawn(process.execPath, [join(ROOT, 'stack', 'dist', 'src', 'supervisor.js'), l.name, arg], {
    detached: true,
    stdio: ['ignore', out, out],
    cwd: ROOT,
  });
  closeSync(out);
  child.unref();
  say(`${l.name}: supervisor pid ${child.pid}; logs in ${l.logs}`);
}

/** Waits until the supervisor says every process is ready (or fails: its error). */
export async function supervised(l: RunLayout): Promise<void> {
  const t0 = Date.now();
  let shown = '';
  while (Date.now() - t0 < START_GUARD_MS) {
    const s = readState(l);
    if (s?.status === 'ready') {
      say(`${l.name}: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return;
    }
    if (s && (s.status === 'failed' || (s.status !== 'stopped' && !alive(s.supervisorPid)))) {
      throw new Error(`${l.name} failed to start: ${s.error ?? 'supervisor exited'} (see ${join(l.logs, 'supervisor.log')})`);
    }
    const progress = s
      ? Object.entries(s.components)
          .filter(([, c]) => c.status === 'ready')
          .map(([n]) => n)
          .join(', ')
      : '';
    if (progress !== shown) {
      shown = progress;
      if (progress) say(`ready: ${progress}`);
    }
    await sleep(250);
  }
  throw new Error(`${l.name} was not ready within ${START_GUARD_MS / 1000} s (see ${join(l.logs, 'supervisor.log')})`);
}

/**
 * Runs the services of a running stack with another route or profile; the
 * brokers keep running (and their JIT-warm code and data). Returns once every
 * service is ready again.
 */
export async function reconfigureStack(l: StackLayout, opts: StackOptions = {}): Promise<void> {
  const want = shapeOf(opts);
  const s = readState(l);
  if (!s || !alive(s.supervisorPid) || s.status !== 'ready') throw new Error(`stack ${l.name} is not running and ready`);
  if (sameShape(shapeOf(s), want)) return;
  if (shapeOf(s).replicated !== want.replicated)
    throw new Error(`stack ${l.name} runs ${shapeOf(s).replicated ? 'three' : 'one'} Kafka and RabbitMQ node(s); npm stop first`);
  // The brokers stay as they are: a domain whose paths need one the stack did not start needs a new stack.
  const missing = components(l, want).filter((c) => c.kind === 'broker' && !s.components[c.name]);
  if (missing.length > 0)
    throw new Error(`stack ${l.name} runs no ${missing.map((c) => c.name).join(', ')} (started for ${s.domain}); npm stop first`);
  writeFileSync(join(l.dir, 'reconfigure.json'), JSON.stringify(want));
  process.kill(s.supervisorPid, 'SIGHUP');
  const t0 = Date.now();
  while (Date.now() - t0 < START_GUARD_MS) {
    await sleep(200);
    const now = readState(l);
    if (!now || !alive(now.supervisorPid) || now.status === 'failed')
      throw new Error(`stack ${l.name} failed while reconfiguring (see ${join(l.logs, 'supervisor.log')})`);
    if (now.status === 'ready' && sameShape(shapeOf(now), want)) {
      say(`stack ${l.name}: services ready with ${describeShape(want)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return;
    }
  }
  throw new Error(`stack ${l.name} was not ready again within ${START_GUARD_MS / 1000} s`);
}

/** Stops the supervisor (which stops every component), then anything it left, each by its own PID. */
export async function stopStack(l: RunLayout): Promise<void> {
  const s = readState(l);
  if (!s) {
    say(`stack ${l.name}: not running`);
    return;
  }
  if (alive(s.supervisorPid)) {
    process.kill(s.supervisorPid, 'SIGTERM');
    const t0 = Date.now();
    while (alive(s.supervisorPid) && Date.now() - t0 < 150_000) await sleep(200);
  }
  const after = readState(l) ?? s;
  for (const [name, c] of Object.entries(after.components)) {
    if (alive(c.pid)) {
      say(`${name}: still running after the supervisor; SIGKILL pid ${c.pid}`);
      process.kill(c.pid!, 'SIGKILL');
    }
  }
  if (alive(s.supervisorPid)) process.kill(s.supervisorPid, 'SIGKILL');
  rmSync(l.stateFile, { force: true });
  say(`stack ${l.name}: stopped`);
}

/** `npm run status`: the stack's shape and each process's state, PID and restarts. */
export function stackStatus(l: StackLayout): number {
  const s = readState(l);
  if (!s || !alive(s.supervisorPid)) {
    say(`stack ${l.name}: not running`);
    return 1;
  }
  console.log(`stack ${l.name}: ${s.status}, ${describeShape(shapeOf(s))}, supervisor pid ${s.supervisorPid}, API ${l.apiUrl}`);
  for (const [name, c] of Object.entries(s.components)) {
    console.log(`  ${name.padEnd(18)} ${c.status.padEnd(10)} pid ${String(c.pid ?? '-').padEnd(8)} restarts ${c.restarts}`);
  }
  return 0;
}
