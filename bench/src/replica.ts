/**
 * Valkey without and with a replica, as the consumers use it: batches of
 * tweets applied with the production apply script (ItemStore, dedup and
 * counts in one call) to a primary configured like the stack's (AOF,
 * appendfsync always), in three cases:
 *
 *   alone          the primary alone
 *   replica        a second Valkey replicating from it (asynchronous: the apply answers before the replica has it)
 *   replica+wait   the same, and each batch waits for the replica's confirmation (WAIT 1), as
 *                  VALKEY_WAIT_REPLICAS=1 makes the consumers do
 *
 * Reported: tweets and batches applied per second, p50/p99 per batch, the CPU of the primary and of the
 * replica per tweet, and how long after the last apply the replica held the same counts. Throwaway servers
 * on their own ports and folders, stopped at the end. npm run bench -- --valkey-replica.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'iovalkey';
import { weather } from '@tweets/domain';
import { ItemStore, readStats } from '@tweets/store';
import { percentile } from '@tweets/loadgen';
import { scratchDir, TOOL_PORTS, valkeyServer } from '@tweets/stack';
import { sample } from './sampler.js';
import { batchOf, inTurn } from './transport.js';

export const REPLICA_CASES = ['alone', 'replica', 'replica+wait'] as const;
export type ReplicaCase = (typeof REPLICA_CASES)[number];

export interface ReplicaResult {
  case: ReplicaCase;
  batchSize: number;
  inFlight: number;
  tweets: number;
  tweetsPerSec: number;
  batchesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU µs per tweet of the primary and of the replica (0 when there is none). */
  primaryUsPerTweet: number;
  replicaUsPerTweet: number;
  /** From the last apply answered to the replica holding the primary's counts (null: no replica). */
  replicaCatchUpMs: number | null;
  /** Whether the replica's counts equal the primary's at the end (null: no replica). */
  replicaMatches: boolean | null;
}

const { replicaPrimary: PRIMARY_PORT, replicaReplica: REPLICA_PORT } = TOOL_PORTS;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** The stack's persistence: no snapshots, the AOF, fsync before every reply. */
const PERSISTENCE = ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];

/** A throwaway Valkey with the stack's persistence. */
async function startValkey(port: number, dir: string, replicaOf?: number): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...PERSISTENCE];
  if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
  const line = valkeyServer(args);
  const p = spawn(line.command, line.args, { stdio: 'ignore' });
  for (let i = 0; !(await listening(port)); i++) {
    if (i > 100 || p.exitCode !== null) throw new Error(`the throwaway valkey on ${port} did not start`);
    await sleep(100);
  }
  return p;
}

async function replicaInSync(replica: Redis): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const info = await replica.info('replication');
    if (/master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info)) return;
    await sleep(100);
  }
  throw new Error('the replica did not sync with the primary within 30 s');
}

async function measure(o: {
  case: ReplicaCase;
  primary: Redis;
  replica: Redis | null;
  pids: { primary: number; replica?: number };
  batches: number;
  batchSize: number;
  inFlight: number;
}): Promise<ReplicaResult> {
  const store = new ItemStore(weather, o.primary, { waitReplicas: o.case === 'replica+wait' ? 1 : 0, waitTimeoutMs: 5000 });
  const prefix = `${o.case}-${Date.now()}`;
  // Warm-up: the script loaded, the connection's buffers grown; not measured.
  for (let b = 0; b < 20; b++) await store.applyBatch('kafka', batchOf(o.batchSize, b * o.batchSize, `${prefix}-warm`));
  const p0 = sample(o.pids.primary).cpuSec;
  const r0 = o.pids.replica ? sample(o.pids.replica).cpuSec : 0;
  const lat: number[] = [];
  const t0 = performance.now();
  await inTurn(o.batches, o.inFlight, async (b) => {
    const s = performance.now();
    const applied = await store.applyBatch('kafka', batchOf(o.batchSize, b * o.batchSize, prefix));
    lat.push(performance.now() - s);
    if (applied.some((x) => x !== 1)) throw new Error(`batch ${b}: an item was not applied`);
  });
  const ms = performance.now() - t0;
  const tEnd = performance.now();
  const primaryCpu = sample(o.pids.primary).cpuSec - p0;
  let catchUp: number | null = null;
  let matches: boolean | null = null;
  if (o.replica) {
    const want = JSON.stringify(await readStats(o.primary, weather));
    for (let i = 0; i < 3000; i++) {
      if (JSON.stringify(await readStats(o.replica, weather)) === want) {
        catchUp = Math.round((performance.now() - tEnd) * 10) / 10;
        break;
      }
      await sleep(2);
    }
    matches = catchUp !== null;
  }
  const replicaCpu = o.pids.replica ? sample(o.pids.replica).cpuSec - r0 : 0;
  const tweets = o.batches * o.batchSize;
  lat.sort((a, b) => a - b);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    case: o.case,
    batchSize: o.batchSize,
    inFlight: o.inFlight,
    tweets,
    tweetsPerSec: Math.round((tweets / ms) * 1000),
    batchesPerSec: Math.round((o.batches / ms) * 1000),
    p50Ms: r2(percentile(lat, 50)),
    p99Ms: r2(percentile(lat, 99)),
    primaryUsPerTweet: r2((primaryCpu * 1e6) / tweets),
    replicaUsPerTweet: r2((replicaCpu * 1e6) / tweets),
    replicaCatchUpMs: catchUp,
    replicaMatches: matches,
  };
}

export interface ReplicaOptions {
  batchSizes: readonly number[];
  /** Batches per case and batch size. */
  batches: number;
  /** Batches applied at once: the consumers apply one at a time each. */
  inFlight: number;
  log?: (m: string) => void;
}

export async function runReplicaBench(o: ReplicaOptions): Promise<ReplicaResult[]> {
  const dirs = [scratchDir('valkey-primary-'), scratchDir('valkey-replica-')];
  const procs: ChildProcess[] = [];
  const conns: Redis[] = [];
  try {
    const primaryProc = await startValkey(PRIMARY_PORT, dirs[0]!);
    procs.push(primaryProc);
    const primary = new Redis({ port: PRIMARY_PORT, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    conns.push(primary);
    const out: ReplicaResult[] = [];
    const run = async (c: ReplicaCase, replica: Redis | null, replicaPid?: number) => {
      for (const batchSize of o.batchSizes) {
        const r = await measure({ ...o, case: c, primary, replica, pids: { primary: primaryProc.pid!, replica: replicaPid }, batchSize });
        o.log?.(
          `${c}, batches of ${batchSize}: ${r.tweetsPerSec} tweets/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; CPU µs per tweet: primary ${r.primaryUsPerTweet}, replica ${r.replicaUsPerTweet}; replica caught up ${r.replicaCatchUpMs ?? '-'} ms after the last apply`,
        );
        out.push(r);
      }
    };
    await run('alone', null);
    const replicaProc = await startValkey(REPLICA_PORT, dirs[1]!, PRIMARY_PORT);
    procs.push(replicaProc);
    const replica = new Redis({ port: REPLICA_PORT, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    conns.push(replica);
    await replicaInSync(replica);
    await run('replica', replica, replicaProc.pid!);
    await run('replica+wait', replica, replicaProc.pid!);
    return out;
  } finally {
    for (const c of conns) c.disconnect();
    for (const p of procs.reverse()) {
      p.kill('SIGKILL');
      await new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)));
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export function replicaMarkdown(rs: readonly ReplicaResult[]): string {
  const rows = rs.map(
    (r) =>
      `| ${r.case} | ${r.batchSize} | ${r.tweetsPerSec} | ${r.batchesPerSec} | ${r.p50Ms} | ${r.p99Ms} | ${r.primaryUsPerTweet} | ${r.replicaUsPerTweet} | ${r.replicaCatchUpMs ?? '—'} |`,
  );
  return [
    `Batches applied with the consumers' script, ${rs[0]?.inFlight ?? 0} at a time, to a primary with AOF and appendfsync always.`,
    '',
    '| case | tweets per batch | tweets/s | batches/s | p50 ms | p99 ms | primary CPU µs/tweet | replica CPU µs/tweet | replica caught up (ms) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}
