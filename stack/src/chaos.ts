import { Redis } from 'iovalkey';
import { weather, type BrokerPath, type WeatherDomain } from '@tweets/domain';
import { breakdownDelta, type StatsOf } from '@tweets/store/stats';
import { fetchStats, runLoad, waitForCounts, type LoadResult } from '@tweets/loadgen';
import { appliedIds } from '@tweets/store';
import { Admin } from '@platformatic/kafka';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  components,
  kafkaNodes,
  rabbitmqEnv,
  rabbitmqNodes,
  sentinelPorts,
  shapeOf,
  VALKEY_PRIMARY_NAME,
  valkeyNodes,
} from './components.js';
import { inRoot } from './roots.js';
import { secrets, type StackLayout } from './layout.js';
import { alive, readState } from './state.js';

/**
 * Fault injection under load. A retrying load (same Idempotency-Key until
 * accepted) runs while faults are injected one at a time, each after the
 * stack has recovered from the last. The supervisor restarts what dies, as
 * Kubernetes would. Afterwards every path must have counted every distinct
 * tweet exactly once, in total and per (group, counted value): per (municipality, weather) for weather tweets.
 */

/** kill: SIGKILL. restart: SIGTERM, then the supervisor starts it again. freeze: SIGSTOP past Kafka's session timeout, then SIGCONT. */
export type FaultKind = 'kill' | 'restart' | 'freeze';
export interface Fault {
  kind: FaultKind;
  /**
   * A process of the stack, or `kafka-leader` / `rabbitmq-leader` / `valkey-primary`: the Kafka node leading
   * the tweet topic's first partition, the RabbitMQ node leading the tweet queue, the Valkey server the
   * sentinels name primary, when the fault strikes.
   */
  component: string;
}

/** Every fault of the full run, in order. */
export const ALL_FAULTS: Fault[] = [
  { kind: 'kill', component: 'kafka-consumer' },
  { kind: 'kill', component: 'rabbitmq-consumer' },
  { kind: 'kill', component: 'writer-kafka' },
  { kind: 'kill', component: 'writer-rabbitmq' },
  { kind: 'kill', component: 'dispatcher' },
  { kind: 'kill', component: 'ingest-api' },
  { kind: 'restart', component: 'kafka' },
  { kind: 'restart', component: 'rabbitmq' },
  { kind: 'kill', component: 'rabbitmq' },
  { kind: 'restart', component: 'valkey' },
];

/** The short variant's faults: one of each kind that matters most. */
export const QUICK_FAULTS: Fault[] = [
  { kind: 'kill', component: 'kafka-consumer' },
  { kind: 'kill', component: 'writer-rabbitmq' },
  { kind: 'restart', component: 'kafka' },
  { kind: 'kill', component: 'rabbitmq' },
  { kind: 'restart', component: 'valkey' },
];

/**
 * The replicated stack's node-loss faults (`npm run chaos -- --replicated`): a Kafka node of three, and a
 * RabbitMQ node of three, lost, frozen or stopped, the leader each time (of the tweet topic's partition, of
 * the tweet queue), so leadership must move and the clients on that node must move to another; then
 * Valkey's primary killed (back before the sentinels act) and frozen past their 3 s (the replica promoted).
 */
export const NODE_LOSS_FAULTS: Fault[] = [
  { kind: 'kill', component: 'kafka-leader' },
  { kind: 'freeze', component: 'kafka-leader' },
  { kind: 'restart', component: 'kafka-leader' },
  { kind: 'kill', component: 'rabbitmq-leader' },
  { kind: 'freeze', component: 'rabbitmq-leader' },
  { kind: 'restart', component: 'rabbitmq-leader' },
  { kind: 'kill', component: 'valkey-primary' },
  { kind: 'freeze', component: 'valkey-primary' },
];
export const QUICK_NODE_LOSS_FAULTS: Fault[] = [
  { kind: 'kill', component: 'kafka-leader' },
  { kind: 'kill', component: 'rabbitmq-leader' },
  { kind: 'freeze', component: 'valkey-primary' },
];

/** How long a frozen node stays stopped: past the replicated stack's Kafka session timeout (6 s), so it is fenced. */
export const FREEZE_MS = 10_000;

export interface ChaosOptions {
  /** Distinct tweets to send at least; the load goes on past this until every fault has run and recovered. */
  count: number;
  /** The most tweets sent whatever happens (default 10 × count): a guard, so the load always ends. */
  maxCount?: number;
  /** Tweets per second to start, at most. */
  rate: number;
  concurrency: number;
  faults: Fault[];
  /**
   * Faults are scheduled by progress, not by the clock: the first once this many
   * tweets are accepted, each next one this many accepted tweets after the last
   * recovered. So every fault runs under load on a machine of any speed.
   */
  gapTweets: number;
  /** How long a fault may take to recover before the run gives up on it: a guard against a hang, far above what a slow machine needs. */
  recoverTimeoutMs?: number;
  log: (msg: string) => void;
}

export interface FaultRow {
  fault: string;
  atSec: number;
  sentBefore: number;
  /** Tweets whose first try fell between this fault and the next. */
  window: { from: number; to: number };
  counted: Partial<Record<BrokerPath, number>>;
  lost: Partial<Record<BrokerPath, number>>;
  recoverSec: number;
  /** The longest time from the fault until recovered in which no tweet was accepted while clients kept sending: the outage a client saw. */
  outageSec: number;
  /** False if the stack was not ready again within recoverTimeoutMs. */
  recovered: boolean;
  clientErrors: number;
}

export interface ChaosReport {
  startedAt: string;
  options: { count: number; rate: number; concurrency: number; gapTweets: number };
  load: Pick<LoadResult, 'sent' | 'accepted' | 'rejected' | 'failed' | 'attempts' | 'retried' | 'errors'> & {
    wallSec: number;
    ratePerSec: number;
  };
  rows: FaultRow[];
  totals: {
    counted: Record<string, number>;
    distinctApplied: Record<string, number>;
    lost: Record<string, number>;
    duplicated: Record<string, number>;
  };
  breakdownMatches: Record<string, boolean>;
  drainSec: number;
  passed: boolean;
}

const PATHS = weather.paths;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every process of the stack's current shape ready and alive (a writer replica an earlier shape ran stays in the state, stopped). */
function allReady(l: StackLayout): boolean {
  const s = readState(l);
  if (!s) return false;
  return components(l, shapeOf(s)).every((c) => s.components[c.name]?.status === 'ready' && alive(s.components[c.name]!.pid));
}

/** The process a fault strikes: the one it names, or the node that leads the tweet topic's first partition or the tweet queue now. */
async function processOf(l: StackLayout, f: Fault): Promise<string> {
  if (f.component === 'rabbitmq-leader') return rabbitmqLeader(l);
  if (f.component === 'valkey-primary') {
    const port = await valkeyPrimaryPort(l);
    const node = valkeyNodes(l, true).find((n) => n.port === port);
    if (!node) throw new Error(`the sentinels name 127.0.0.1:${port} primary, no Valkey of this stack`);
    return node.name;
  }
  if (f.component !== 'kafka-leader') return f.component;
  const nodes = kafkaNodes(l, true);
  const admin = new Admin({ clientId: 'chaos', bootstrapBrokers: nodes.map((n) => `127.0.0.1:${n.port}`), timeout: 5000, retries: 3 });
  try {
    const topic = weather.broker.topic;
    const leader = (await admin.metadata({ topics: [topic] })).topics.get(topic)?.partitions[0]?.leader;
    const node = nodes.find((n) => n.id === leader);
    if (!node) throw new Error(`no leader for ${topic}'s partition 0 (${leader})`);
    return node.name;
  } finally {
    await admin.close();
  }
}

/** The port of Valkey's primary: the one server, or the one the first sentinel that answers names. */
async function valkeyPrimaryPort(l: StackLayout): Promise<number> {
  const state = readState(l);
  if (!state || !shapeOf(state).replicated) return l.ports.valkey;
  for (const port of sentinelPorts(l)) {
    const sentinel = new Redis({
      host: '127.0.0.1',
      port,
      lazyConnect: true,
      connectTimeout: 1000,
      commandTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    try {
      await sentinel.connect();
      const addr = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', VALKEY_PRIMARY_NAME)) as [string, string] | null;
      if (addr) return Number(addr[1]);
    } catch {
      // that sentinel is down: ask the next
    } finally {
      sentinel.disconnect();
    }
  }
  throw new Error('no sentinel named a Valkey primary');
}

/** The RabbitMQ node leading the tweet queue (its quorum's Raft leader), asked of the first node that answers. */
async function rabbitmqLeader(l: StackLayout): Promise<string> {
  const nodes = rabbitmqNodes(l, true);
  const queue = weather.broker.queue;
  for (const asked of nodes) {
    const { command, args } = inRoot('forky', '/usr/lib/rabbitmq/bin/rabbitmqctl', [
      '-n',
      asked.node,
      '-q',
      'list_queues',
      '--formatter',
      'json',
      'name',
      'leader',
    ]);
    try {
      const { stdout } = await promisify(execFile)(command, args, {
        env: { ...process.env, ...rabbitmqEnv(l, asked, nodes) },
        timeout: 60_000,
      });
      const leader = (JSON.parse(stdout) as { name: string; leader: string }[]).find((q) => q.name === queue)?.leader;
      const node = nodes.find((n) => n.node === leader);
      if (node) return node.name;
    } catch {
      // that node is down or busy: ask the next
    }
  }
  throw new Error(`no RabbitMQ node named a leader for ${queue}`);
}

/** Injects the fault; returns the process it struck and its PID. A frozen process is resumed after FREEZE_MS. */
async function inject(l: StackLayout, f: Fault): Promise<{ name: string; pid: number; resumed?: Promise<void> }> {
  const name = await processOf(l, f);
  const pid = readState(l)?.components[name]?.pid;
  if (!pid || !alive(pid)) throw new Error(`${name} is not running`);
  if (f.kind === 'freeze') {
    process.kill(pid, 'SIGSTOP');
    return { name, pid, resumed: sleep(FREEZE_MS).then(() => void process.kill(pid, 'SIGCONT')) };
  }
  // kill: SIGKILL, no chance to clean up. restart: a broker is stopped (SIGTERM,
  // Valkey: SIGKILL, to prove its AOF) and the supervisor starts it again.
  const signal = f.kind === 'kill' || name.startsWith('valkey') ? 'SIGKILL' : 'SIGTERM';
  process.kill(pid, signal);
  return { name, pid };
}

/** The load's progress as the clients report it: what they sent, what was accepted, and when last. */
type Progress = { sent: number; accepted: number; lastAcceptedAt: number };

/** A fault as it went: when it struck, the tweets sent before it, when the system had recovered, the longest outage. */
export interface Struck {
  f: Fault;
  name: string;
  at: number;
  sentBefore: number;
  recovered: number;
  outage: number;
  ok: boolean;
}

/**
 * One fault, injected, then watched until recovered: the process gone (a broker's graceful stop takes
 * seconds) or resumed, every component ready again, and a tweet accepted after that. The outage is the
 * longest stretch with nothing accepted, sampled meanwhile.
 */
async function strike(
  l: StackLayout,
  f: Fault,
  progress: Progress,
  o: { t0: number; recoverTimeoutMs: number; loadDone: () => boolean; log: (m: string) => void },
): Promise<Struck> {
  const at = Date.now();
  o.log(`${f.kind} ${f.component} at ${((at - o.t0) / 1000).toFixed(1)} s, after ${progress.accepted} accepted tweets`);
  const sentBefore = progress.sent;
  const struck = await inject(l, f);
  let outage = 0;
  const watch = async (until: () => boolean, everyMs: number) => {
    while (!until() && Date.now() - at < o.recoverTimeoutMs) {
      outage = Math.max(outage, Date.now() - Math.max(progress.lastAcceptedAt, at));
      await sleep(everyMs);
    }
  };
  let resumed = !struck.resumed;
  void struck.resumed?.then(() => (resumed = true));
  await watch(() => (struck.resumed ? resumed : !alive(struck.pid)), 50);
  await watch(() => allReady(l), 100);
  const ready = allReady(l);
  const readyAt = Date.now();
  await watch(() => progress.lastAcceptedAt >= readyAt || o.loadDone(), 50);
  const recovered = Date.now();
  const ok = ready && progress.lastAcceptedAt >= readyAt;
  o.log(
    ok
      ? `  ${struck.name}: recovered in ${((recovered - at) / 1000).toFixed(1)} s, nothing accepted for ${(outage / 1000).toFixed(1)} s at most`
      : `  NOT recovered within ${o.recoverTimeoutMs / 1000} s`,
  );
  return { f, name: struck.name, at, sentBefore, recovered, outage, ok };
}

/** Which of the load's ids (`<prefix>-0` to `<prefix>-<sent - 1>`) each path applied, from its dedup window's buckets. */
async function appliedPerPath(l: StackLayout, idPrefix: string, sent: number): Promise<Record<BrokerPath, Uint8Array>> {
  const s = secrets(l);
  const valkey = new Redis({ host: '127.0.0.1', port: await valkeyPrimaryPort(l), username: 'reader', password: s.valkeyReaderPassword });
  const ids = Array.from({ length: sent }, (_, n) => `${idPrefix}-${n}`);
  const applied = {} as Record<BrokerPath, Uint8Array>;
  try {
    for (const p of PATHS) applied[p] = await appliedIds(valkey, weather.keyPrefix, p, ids);
  } finally {
    valkey.disconnect();
  }
  return applied;
}

/**
 * A row per fault: the tweets first sent in its window (clients take tweets in index order, so those started
 * before a fault are 0 .. sentBefore-1), how many of them each path applied, its recovery and the errors clients saw.
 */
export function faultRows(
  struck: Struck[],
  applied: Record<BrokerPath, Uint8Array>,
  result: LoadResult,
  t0: number,
  loadEnd: number,
): FaultRow[] {
  return struck.map(({ f, name, at, sentBefore, recovered, outage, ok }, k) => {
    const next = struck[k + 1];
    const from = k === 0 ? 0 : sentBefore;
    const to = next ? next.sentBefore : result.sent;
    const counted = Object.fromEntries(PATHS.map((p) => [p, applied[p].subarray(from, to).reduce((a, b) => a + b, 0)]));
    const errors = result.errorTimesMs.filter((e) => e >= at - t0 && e < (next ? next.at : loadEnd) - t0).length;
    return {
      fault: `${{ kill: 'SIGKILL', restart: 'restart', freeze: `SIGSTOP ${FREEZE_MS / 1000} s` }[f.kind]} ${name}${f.component === name ? '' : ` (${f.component})`}`,
      atSec: Math.round((at - t0) / 100) / 10,
      sentBefore,
      window: { from, to },
      counted,
      lost: Object.fromEntries(PATHS.map((p) => [p, to - from - counted[p]!])),
      recoverSec: Math.round((recovered - at) / 100) / 10,
      outageSec: Math.round(outage / 100) / 10,
      recovered: ok,
      clientErrors: errors,
    };
  });
}

/** Each path's count against the distinct ids it applied and the tweets accepted: lost, duplicated, and whether the breakdown matches. */
function pathTotals(
  before: StatsOf<WeatherDomain>,
  after: StatsOf<WeatherDomain>,
  applied: Record<BrokerPath, Uint8Array>,
  result: LoadResult,
): Pick<ChaosReport, 'totals' | 'breakdownMatches'> {
  const totals: ChaosReport['totals'] = { counted: {}, distinctApplied: {}, lost: {}, duplicated: {} };
  const breakdownMatches: Record<string, boolean> = {};
  for (const p of PATHS) {
    const counted = after.paths[p].total - before.paths[p].total;
    const distinct = applied[p].reduce((a, b) => a + b, 0);
    totals.counted[p] = counted;
    totals.distinctApplied[p] = distinct;
    totals.lost[p] = result.accepted - distinct;
    totals.duplicated[p] = counted - distinct;
    breakdownMatches[p] =
      JSON.stringify(breakdownDelta(weather, before.paths[p], after.paths[p])) === JSON.stringify(result.accepted_breakdown);
  }
  return { totals, breakdownMatches };
}

/**
 * The fault-injection run: the load at a steady rate, each fault once `gapTweets` more were accepted, then
 * (the load drained) every tweet's count on each path read back: exactly once, or the report says where not.
 */
export async function runChaos(l: StackLayout, opts: ChaosOptions): Promise<ChaosReport> {
  const startedAt = new Date().toISOString();
  const before: StatsOf<WeatherDomain> = await fetchStats(l.apiUrl);
  const idPrefix = `chaos-${Date.now().toString(36)}`;
  const progress: Progress = { sent: 0, accepted: 0, lastAcceptedAt: 0 };
  const recoverTimeoutMs = opts.recoverTimeoutMs ?? 300_000;
  const maxCount = opts.maxCount ?? opts.count * 10;
  let faultsDone = false;
  const t0 = Date.now();
  const loading = runLoad({
    domain: weather,
    url: l.apiUrl,
    count: maxCount,
    concurrency: opts.concurrency,
    rate: opts.rate,
    idPrefix,
    retry: { maxTotalMs: 180_000 },
    timeoutMs: 5000,
    // Guards only: the load ends once every fault has recovered and `count` tweets are sent.
    maxDurationMs: Math.ceil((maxCount / opts.rate) * 1000) + recoverTimeoutMs * opts.faults.length,
    progress,
    stop: () => faultsDone && progress.sent >= opts.count,
  });
  let loadDone = false;
  void loading.then(() => (loadDone = true));
  const untilAccepted = async (n: number) => {
    while (progress.accepted < n && !loadDone) await sleep(50);
  };

  const struck: Struck[] = [];
  await untilAccepted(opts.gapTweets);
  for (const f of opts.faults) {
    if (loadDone) {
      opts.log(`load ended (its count or time guard) before ${f.kind} ${f.component}; faults after it are skipped`);
      break;
    }
    struck.push(await strike(l, f, progress, { t0, recoverTimeoutMs, loadDone: () => loadDone, log: opts.log }));
    await untilAccepted(progress.accepted + opts.gapTweets);
  }
  faultsDone = true;
  const result = await loading;
  const loadEnd = Date.now();
  opts.log(
    `load done: ${result.accepted} accepted of ${result.sent} in ${((loadEnd - t0) / 1000).toFixed(1)} s, ${result.attempts} attempts`,
  );

  const { reached } = await waitForCounts(l.apiUrl, before, Object.fromEntries(PATHS.map((p) => [p, result.accepted])), 180_000);
  const drainSec = (Date.now() - loadEnd) / 1000;
  await sleep(3000); // redeliveries would land by now
  const after = await fetchStats<WeatherDomain>(l.apiUrl);
  opts.log(`drained in ${drainSec.toFixed(1)} s (reached: ${reached})`);

  const applied = await appliedPerPath(l, idPrefix, result.sent);
  const rows = faultRows(struck, applied, result, t0, loadEnd);
  const { totals, breakdownMatches } = pathTotals(before, after, applied, result);
  const passed =
    reached &&
    rows.length === opts.faults.length &&
    rows.every((r) => r.recovered) &&
    result.failed === 0 &&
    result.accepted === result.sent &&
    PATHS.every((p) => totals.counted[p] === result.sent && totals.lost[p] === 0 && totals.duplicated[p] === 0 && breakdownMatches[p]);
  const wallSec = (loadEnd - t0) / 1000;
  return {
    startedAt,
    options: { count: opts.count, rate: opts.rate, concurrency: opts.concurrency, gapTweets: opts.gapTweets },
    load: {
      sent: result.sent,
      accepted: result.accepted,
      rejected: result.rejected,
      failed: result.failed,
      attempts: result.attempts,
      retried: result.retried,
      errors: result.errors,
      wallSec: Math.round(wallSec * 10) / 10,
      ratePerSec: Math.round(result.accepted / wallSec),
    },
    rows,
    totals,
    breakdownMatches,
    drainSec: Math.round(drainSec * 10) / 10,
    passed,
  };
}

export function renderReport(r: ChaosReport, command: string, title = 'Reliability under faults'): string {
  const lines = [
    `# ${title}`,
    '',
    `Generated by \`${command}\` on ${r.startedAt}. Verdict: **${r.passed ? 'PASS' : 'FAIL'}**.`,
    '',
    `Load: ${r.load.sent} distinct tweets at up to ${r.options.rate}/s from ${r.options.concurrency} clients that retry`,
    `any non-2xx with the same Idempotency-Key (backoff up to 1 s). Achieved ${r.load.ratePerSec} accepted/s over ${r.load.wallSec} s;`,
    `${r.load.accepted} accepted, ${r.load.failed} given up, ${r.load.retried} accepted only after a retry, ${r.load.attempts} requests in all.`,
    `After the last answer both paths drained in ${r.drainSec} s. Faults are scheduled by progress, not by the clock: the first`,
    `after ${r.options.gapTweets} accepted tweets, each next one ${r.options.gapTweets} accepted tweets after the last recovered, and the load`,
    `runs until every fault has recovered and at least ${r.options.count} tweets were sent, so on any machine every fault hits a live load.`,
    '',
    `| fault | at (s) | tweets sent before | window | ${PATHS.map((p) => `counted ${p}`).join(' | ')} | ${PATHS.map((p) => `lost ${p}`).join(' | ')} | recovered in (s) | nothing accepted for (s) | client-visible errors |`,
    `| --- | ---: | ---: | ---: | ${PATHS.map(() => '---: | ---:').join(' | ')} | ---: | ---: | ---: |`,
    ...r.rows.map(
      (x) =>
        `| ${x.fault} | ${x.atSec} | ${x.sentBefore} | ${x.window.to - x.window.from} | ${PATHS.map((p) => x.counted[p]).join(' | ')} | ${PATHS.map((p) => x.lost[p]).join(' | ')} | ${x.recovered ? x.recoverSec : `not within ${x.recoverSec}`} | ${x.outageSec} | ${x.clientErrors} |`,
    ),
    '',
    `| path | distinct tweets sent | counted | distinct ids applied | lost | duplicated | per (${weather.groupBy}, ${weather.countBy}) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...PATHS.map(
      (p) =>
        `| ${p} | ${r.load.sent} | ${r.totals.counted[p]} | ${r.totals.distinctApplied[p]} | ${r.totals.lost[p]} | ${r.totals.duplicated[p]} | ${r.breakdownMatches[p] ? 'equal' : 'DIFFERENT'} |`,
    ),
    '',
    'How to read it:',
    '- *window*: the tweets first sent between this fault and the next (the first row also holds the warm-up).',
    '- *counted*: of those, how many each path applied (its per-id dedup key exists in Valkey); *lost*: the rest.',
    "- *duplicated*: the path's counter increase minus the distinct ids it applied; a double count would show here.",
    '- *recovered in*: from the fault until every process was ready again and a tweet was accepted after that.',
    '- *nothing accepted for*: the longest stretch, from the fault until recovered, in which no tweet was accepted while the clients kept sending: the outage a client saw.',
    '- *client-visible errors*: non-2xx answers and failed requests in the window; each was retried with the same id.',
    '',
    'Faults: SIGKILL is `kill -9` of the process; a broker restart is SIGTERM (Valkey: SIGKILL, to prove its',
    'append-only file) followed by the supervisor starting it again, as Kubernetes would restart a pod. Valkey runs',
    'with `appendonly yes` and `appendfsync always`: every write is on disk before Valkey replies, so neither a',
    'process crash nor a machine crash loses a counted tweet (see docs/valkey.md). A frozen process (SIGSTOP) is',
    `resumed (SIGCONT) after ${FREEZE_MS / 1000} s; \`kafka-leader\` is the Kafka node leading the tweet topic's first partition at that moment,`,
    '`rabbitmq-leader` the RabbitMQ node leading the tweet queue (the Raft leader of its quorum), `valkey-primary` the',
    'Valkey server the sentinels name primary.',
    '',
    `Client errors by kind: \`${JSON.stringify(r.load.errors)}\``,
    '',
  ];
  return lines.join('\n');
}
