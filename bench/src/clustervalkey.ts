/**
 * `npm run bench -- --cluster-valkey`: the Valkey primary lost under load on the Kubernetes node of `npm run
 * cluster`, second by second, twice: once left to Kubernetes (the StatefulSet makes the pod again, with its
 * volume and AOF), once with the replica promoted by hand at once (REPLICAOF NO ONE and the Service `valkey`
 * pointed at it, what an operator or Sentinel would do). The load retries its 503s with the same key, as the
 * API asks; each second: tweets accepted, counted per path, the consumers' readiness, what the replica says
 * of its primary and what it holds. Afterwards every accepted id is looked up: lost, counted twice.
 */
import { Redis } from 'iovalkey';
import { weather, type BrokerPath, type WeatherDomain } from '@tweets/domain';
import { fetchStats, runLoad, waitForCounts } from '@tweets/loadgen';
import { appliedIds, pathKey } from '@tweets/store';
import { kubectl, patch, type ClusterTarget } from './kubectl.js';

export interface ValkeySecond {
  t: number;
  /** Tweets the API accepted in that second (2xx), and the counts each path reached. */
  accepted: number;
  counted: Record<string, number>;
  consumersReady: number;
  primaryReady: boolean;
  /** The replica's view: its link to the primary, and the total it holds for the Kafka path. */
  replicaLink: string;
  replicaTotal: number | null;
}

export interface ValkeyRun {
  mode: 'kubernetes' | 'promoted by hand';
  killedAt: number;
  /** Seconds from the kill until counting went on (the counts rose again), and until the primary pod was ready again. */
  countingResumedAfterSec: number | null;
  primaryReadyAfterSec: number | null;
  /** The longest time the API accepted nothing, while its clients kept sending. */
  longestAcceptGapSec: number;
  timeline: ValkeySecond[];
  totals: { accepted: number; lost: Record<string, number>; doubled: Record<string, number> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** valkey-cli in a pod of the StatefulSet, as the administrator (its password from the pod's own Secret). */
const cli = (t: ClusterTarget, pod: string, args: string[]) =>
  kubectl(t, [
    '-n',
    'valkey',
    'exec',
    pod,
    '-c',
    'valkey',
    '--',
    'sh',
    '-c',
    `valkey-cli --no-auth-warning --user default --pass "$(cat /conf/users.acl | sed -n 's/^user default on >\\([^ ]*\\).*/\\1/p')" ${args.join(' ')}`,
  ]);

async function second(t: ClusterTarget, t0: number, progress: { accepted: number }, last: { accepted: number }): Promise<ValkeySecond> {
  const [stats, pods, replica] = await Promise.all([
    fetchStats<WeatherDomain>(t.entry).catch(() => undefined),
    kubectl(t, ['get', 'pods', '-A', '-o', 'json']).then(
      (o) =>
        JSON.parse(o) as {
          items: {
            metadata: { name: string; namespace: string; labels?: Record<string, string> };
            status: { containerStatuses?: { ready: boolean }[] };
          }[];
        },
    ),
    replicaView(t),
  ]);
  const ready = (f: (p: (typeof pods.items)[number]) => boolean) =>
    pods.items.filter(f).filter((p) => p.status.containerStatuses?.every((c) => c.ready)).length;
  const accepted = progress.accepted - last.accepted;
  last.accepted = progress.accepted;
  return {
    t: Math.round((Date.now() - t0) / 100) / 10,
    accepted,
    counted: Object.fromEntries(weather.paths.map((p) => [p, stats?.paths[p].total ?? -1])),
    consumersReady: ready((p) => /-consumer$/.test(p.metadata.labels?.['app.kubernetes.io/name'] ?? '')),
    primaryReady: ready((p) => p.metadata.namespace === 'valkey' && p.metadata.name === 'valkey-0') === 1,
    ...replica,
  };
}

/** The replica's link to its primary and the Kafka path's total it holds, read directly (the reader user). */
async function replicaView(t: ClusterTarget): Promise<Pick<ValkeySecond, 'replicaLink' | 'replicaTotal'>> {
  const r = new Redis({
    host: await kubectl(t, ['-n', 'valkey', 'get', 'pod', 'valkey-1', '-o', 'jsonpath={.status.podIP}']),
    port: 6379,
    username: 'reader',
    password: t.valkey.password,
    lazyConnect: true,
    connectTimeout: 800,
    maxRetriesPerRequest: 0,
  });
  try {
    await r.connect();
    const info = await r.info('replication');
    const total = await r.call('GET', pathKey(weather.keyPrefix, 'kafka', 'total')).catch(() => null);
    return {
      replicaLink: /master_link_status:(\w+)/.exec(info)?.[1] ?? /role:(\w+)/.exec(info)?.[1] ?? '?',
      replicaTotal: total === null ? null : Number(total),
    };
  } catch {
    return { replicaLink: 'unreachable', replicaTotal: null };
  } finally {
    r.disconnect();
  }
}

/** One run: a load, the primary killed after `killAfterSec`, the timeline until `sec`; then the check. */
async function once(
  t: ClusterTarget,
  mode: ValkeyRun['mode'],
  o: { rate: number; sec: number; killAfterSec: number; log: (m: string) => void },
): Promise<ValkeyRun> {
  const before = await fetchStats<WeatherDomain>(t.entry);
  const idPrefix = `valkey-${mode === 'kubernetes' ? 'k' : 'p'}-${Date.now().toString(36)}`;
  const progress = { sent: 0, accepted: 0, lastAcceptedAt: 0 };
  let stop = false;
  const load = runLoad({
    domain: weather,
    url: t.entry,
    count: o.rate * o.sec * 2,
    concurrency: 40,
    rate: o.rate,
    idPrefix,
    retry: { maxTotalMs: 600_000 },
    timeoutMs: 5000,
    maxDurationMs: 1_800_000,
    progress,
    stop: () => stop,
  });
  const t0 = Date.now();
  const timeline: ValkeySecond[] = [];
  const last = { accepted: 0 };
  let killedAt = 0;
  while ((Date.now() - t0) / 1000 < o.sec) {
    const tick = Date.now();
    if (!killedAt && (tick - t0) / 1000 >= o.killAfterSec) {
      killedAt = Math.round((tick - t0) / 100) / 10;
      o.log(`${mode}: the primary's pod killed at ${killedAt} s`);
      await kubectl(t, ['-n', 'valkey', 'delete', 'pod', 'valkey-0', '--grace-period=0', '--force', '--wait=false']);
      if (mode === 'promoted by hand') await promote(t);
    }
    timeline.push(await second(t, t0, progress, last));
    await sleep(Math.max(0, 1000 - (Date.now() - tick)));
  }
  stop = true;
  const result = await load;
  return { mode, killedAt, ...resumes(timeline, killedAt), timeline, totals: await check(t, before, idPrefix, result) };
}

/** A Service of the StatefulSet's pointed at one pod (`undefined`: at all of them). */
const select = (t: ClusterTarget, service: string, pod: string | undefined) =>
  patch(t, 'valkey', 'service', service, [
    {
      op: 'replace',
      path: '/spec/selector',
      value: { 'app.kubernetes.io/name': 'valkey', ...(pod ? { 'statefulset.kubernetes.io/pod-name': pod } : {}) },
    },
  ]);

/**
 * The replica made the primary: REPLICAOF NO ONE, the Service valkey (writes) pointed at it, and the reads'
 * Service too: the old primary comes back with its own, older data, and must take no reads.
 */
async function promote(t: ClusterTarget): Promise<void> {
  await cli(t, 'valkey-1', ['REPLICAOF', 'NO', 'ONE']);
  await select(t, 'valkey', 'valkey-1');
  await select(t, 'valkey-read', 'valkey-1');
}

/** Back to the manifest's roles, the load stopped: valkey-0 takes valkey-1's data, then is the primary again. */
async function restore(t: ClusterTarget): Promise<void> {
  await kubectl(t, ['-n', 'valkey', 'wait', '--for=condition=Ready', 'pod/valkey-0', '--timeout=300s']);
  await cli(t, 'valkey-0', ['REPLICAOF', 'valkey-1.valkey-headless.valkey.svc.cluster.local', '6379']);
  for (let i = 0; i < 120 && !/master_link_status:up/.test(await cli(t, 'valkey-0', ['INFO', 'replication'])); i++) await sleep(1000);
  await cli(t, 'valkey-0', ['REPLICAOF', 'NO', 'ONE']);
  await select(t, 'valkey', 'valkey-0');
  await cli(t, 'valkey-1', ['REPLICAOF', 'valkey-0.valkey-headless.valkey.svc.cluster.local', '6379']);
  await select(t, 'valkey-read', undefined);
}

function resumes(
  tl: ValkeySecond[],
  killedAt: number,
): Pick<ValkeyRun, 'countingResumedAfterSec' | 'primaryReadyAfterSec' | 'longestAcceptGapSec'> {
  const after = tl.filter((s) => s.t > killedAt);
  // counting resumed: the first second after the kill whose counts are above the last second's, after a stall
  let stalled = false;
  let resumed: number | null = null;
  for (let i = 1; i < after.length; i++) {
    const rose = weather.paths.every((p) => after[i]!.counted[p]! > after[i - 1]!.counted[p]!);
    if (!rose) stalled = true;
    else if (stalled && resumed === null) resumed = after[i]!.t - killedAt;
  }
  const ready = after.find((s, i) => i > 0 && s.primaryReady && !after[0]!.primaryReady) ?? after.find((s) => s.primaryReady);
  let gap = 0;
  let run = 0;
  for (const s of tl) {
    run = s.accepted === 0 ? run + 1 : 0;
    gap = Math.max(gap, run);
  }
  return {
    countingResumedAfterSec: resumed === null ? null : Math.round(resumed * 10) / 10,
    primaryReadyAfterSec: ready ? Math.round((ready.t - killedAt) * 10) / 10 : null,
    longestAcceptGapSec: gap,
  };
}

async function check(
  t: ClusterTarget,
  before: Awaited<ReturnType<typeof fetchStats<WeatherDomain>>>,
  idPrefix: string,
  r: { sent: number; accepted: number },
): Promise<ValkeyRun['totals']> {
  await waitForCounts<WeatherDomain>(t.entry, before, Object.fromEntries(weather.paths.map((p) => [p, r.accepted])), 300_000);
  const after = await fetchStats<WeatherDomain>(t.entry);
  const valkey = new Redis({ host: t.valkey.host, port: t.valkey.port, username: 'reader', password: t.valkey.password });
  const ids = Array.from({ length: r.sent }, (_, n) => `${idPrefix}-${n}`);
  const totals: ValkeyRun['totals'] = { accepted: r.accepted, lost: {}, doubled: {} };
  try {
    for (const p of weather.paths as readonly BrokerPath[]) {
      const applied = (await appliedIds(valkey, weather.keyPrefix, p, ids)).reduce((a, b) => a + b, 0);
      totals.lost[p] = r.accepted - applied;
      totals.doubled[p] = after.paths[p].total - before.paths[p].total - applied;
    }
  } finally {
    valkey.disconnect();
  }
  return totals;
}

export async function runClusterValkey(
  t: ClusterTarget,
  o: { rate?: number; sec?: number; log: (m: string) => void },
): Promise<ValkeyRun[]> {
  const opts = { rate: o.rate ?? 200, sec: o.sec ?? 90, killAfterSec: 20, log: o.log };
  const left = await once(t, 'kubernetes', opts);
  const byHand = await once(t, 'promoted by hand', opts);
  await restore(t);
  return [left, byHand];
}
