/**
 * `npm run bench -- --cluster-replicas`: the seed's replica questions on the Kubernetes node of `npm run
 * cluster`, each pod with the requests and limits its manifest gives it: 1, 2 and 3 API pods (the HPA held
 * at the count for the run), and 1 against 2 writer pods per broker. For each, an open-loop load through the
 * ingress at rising rates until a step fails (a tweet not accepted, or p99 over 100 ms): the top rate, and at
 * every rate the latency and each workload's CPU per 1,000 tweets, from the pods' own cgroups (what
 * metrics-server reads, at the nanosecond instead of every 15 s).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLoop, type OpenLoopOptions } from './openloop.js';
import { kubectl, kubectlJson, patch, type ClusterTarget } from './kubectl.js';

export interface ReplicaConfig {
  name: string;
  apis: number;
  writers: number;
}

/** The seed's comparisons: 1, 2, 3 API pods (one writer each), and 2 writers per broker (one API). */
export const REPLICA_CONFIGS: ReplicaConfig[] = [
  { name: '1 API, 1 writer per broker', apis: 1, writers: 1 },
  { name: '2 APIs', apis: 2, writers: 1 },
  { name: '3 APIs', apis: 3, writers: 1 },
  { name: '2 writers per broker', apis: 1, writers: 2 },
];

export const REPLICA_RATES = [200, 400, 600, 800, 1000, 1200, 1400, 1700, 2000, 2400, 2800, 3200];

export interface ReplicaStep {
  rate: number;
  achievedRate: number;
  p50Ms: number;
  p99Ms: number;
  notAccepted: number;
  passed: boolean;
  /** CPU seconds per 1,000 accepted tweets, per workload (all its pods together). */
  cpuSecPer1000: Record<string, number>;
}

export interface ReplicaResult extends ReplicaConfig {
  maxRate: number;
  steps: ReplicaStep[];
  /** The CPU limit and request of the API's and writers' pods, as deployed. */
  limits: Record<string, { request: string; limit: string }>;
}

/** The pods' CPU accounting (cgroup v1): the hierarchy is mounted with cpu (`cpu,cpuacct`) or on its own (`cpuacct`), by distribution. */
const CGROUP =
  ['cpu,cpuacct', 'cpuacct'].map((h) => `/sys/fs/cgroup/${h}/kubepods`).find((d) => existsSync(d)) ?? '/sys/fs/cgroup/cpuacct/kubepods';
const STEP_SEC = 20;

/** The cgroup folder of each pod (cgroup v1, cgroupfs: kubepods[/<qos>]/pod<uid>). */
function podCgroups(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string, depth: number) => {
    if (depth > 2 || !existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (e.name.startsWith('pod')) out.set(e.name.slice(3), join(dir, e.name));
      else walk(join(dir, e.name), depth + 1);
    }
  };
  walk(CGROUP, 0);
  return out;
}

interface Pod {
  metadata: { uid: string; namespace: string; labels?: Record<string, string> };
}

/** CPU seconds used so far by each workload: its pods' cgroups summed (a workload: a pod's app name, or its namespace). */
async function cpuByWorkload(t: ClusterTarget): Promise<Record<string, number>> {
  const pods = (await kubectlJson<{ items: Pod[] }>(t, ['get', 'pods', '-A'])).items;
  const groups = podCgroups();
  // a figure the table would show as a dash: an error instead, naming where it looked
  if (groups.size === 0) throw new Error(`no pod's CPU accounting under ${CGROUP}`);
  const out: Record<string, number> = {};
  for (const p of pods) {
    const dir = groups.get(p.metadata.uid);
    if (!dir || !existsSync(join(dir, 'cpuacct.usage'))) continue;
    const name = p.metadata.labels?.['app.kubernetes.io/name'] ?? p.metadata.labels?.['strimzi.io/cluster'] ?? p.metadata.namespace;
    out[name] = (out[name] ?? 0) + Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8')) / 1e9;
  }
  return out;
}

/** The API's count held by its HPA (min = max), the writers' set; then every pod of the namespace ready. */
async function shape(t: ClusterTarget, c: { apis: number; writers: number }, hpa: { min: number; max: number }): Promise<void> {
  await patch(t, 'tweets', 'hpa', 'ingest-api', { spec: { minReplicas: c.apis || hpa.min, maxReplicas: c.apis || hpa.max } });
  if (c.apis) await kubectl(t, ['-n', 'tweets', 'scale', 'deployment', 'ingest-api', `--replicas=${c.apis}`]);
  await kubectl(t, ['-n', 'tweets', 'scale', 'deployment', 'writer-kafka', 'writer-rabbitmq', `--replicas=${c.writers}`]);
  for (const d of ['ingest-api', 'writer-kafka', 'writer-rabbitmq'])
    await kubectl(t, ['-n', 'tweets', 'rollout', 'status', `deployment/${d}`, '--timeout=300s']);
}

/** An open-loop load of tweets through the node's ingress. */
const throughIngress = (t: ClusterTarget, o: Pick<OpenLoopOptions, 'rate' | 'durationMs' | 'rampMs' | 'connections' | 'idPrefix'>) =>
  openLoop({ url: t.entry, path: '/tweets', timeoutMs: 10_000, ...o });

/** One rate for STEP_SEC: its latency, what was not accepted, and each workload's CPU per 1,000 accepted tweets. */
async function step(t: ClusterTarget, rate: number, prefix: string): Promise<ReplicaStep> {
  const cpu0 = await cpuByWorkload(t);
  const r = await throughIngress(t, { rate, durationMs: STEP_SEC * 1000, rampMs: 2000, connections: 256, idPrefix: `${prefix}-${rate}` });
  const cpu1 = await cpuByWorkload(t);
  const per1000 = Math.max(r.ok, 1) / 1000;
  const cpuSecPer1000 = Object.fromEntries(
    Object.keys(cpu1).map((k) => [k, Math.round(((cpu1[k]! - (cpu0[k] ?? cpu1[k]!)) / per1000) * 1000) / 1000]),
  );
  const notAccepted = r.sent - r.ok;
  return {
    rate,
    achievedRate: r.achievedRate,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    notAccepted,
    passed: notAccepted === 0 && r.p99Ms <= 100,
    cpuSecPer1000,
  };
}

export async function runClusterReplicas(
  t: ClusterTarget,
  o: { configs?: ReplicaConfig[]; rates?: number[]; log: (m: string) => void },
): Promise<ReplicaResult[]> {
  const hpa = await kubectlJson<{ spec: { minReplicas: number; maxReplicas: number } }>(t, ['-n', 'tweets', 'get', 'hpa', 'ingest-api']);
  const original = { min: hpa.spec.minReplicas, max: hpa.spec.maxReplicas };
  const out: ReplicaResult[] = [];
  try {
    for (const c of o.configs ?? REPLICA_CONFIGS) {
      await shape(t, c, original);
      o.log(`${c.name}: warming up`);
      await throughIngress(t, { rate: 200, durationMs: 15_000, connections: 64, idPrefix: `warm-${Date.now()}` });
      const steps: ReplicaStep[] = [];
      for (const rate of o.rates ?? REPLICA_RATES) {
        const s = await step(t, rate, `replicas-${Date.now().toString(36)}`);
        steps.push(s);
        o.log(
          `  ${rate}/s: ${s.passed ? 'pass' : 'FAIL'}; achieved ${s.achievedRate}/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, ${s.notAccepted} not accepted`,
        );
        if (!s.passed) break;
      }
      out.push({ ...c, maxRate: Math.max(0, ...steps.filter((s) => s.passed).map((s) => s.rate)), steps, limits: await limits(t) });
    }
  } finally {
    await shape(t, { apis: 0, writers: 1 }, original);
  }
  return out;
}

/** The CPU request and limit of the API's and writers' containers, as deployed. */
async function limits(t: ClusterTarget): Promise<ReplicaResult['limits']> {
  const out: ReplicaResult['limits'] = {};
  for (const d of ['ingest-api', 'writer-kafka', 'writer-rabbitmq']) {
    const r = JSON.parse(
      await kubectl(t, ['-n', 'tweets', 'get', 'deployment', d, '-o', 'jsonpath={.spec.template.spec.containers[0].resources}']),
    ) as { requests: { cpu: string }; limits: { cpu: string } };
    out[d] = { request: r.requests.cpu, limit: r.limits.cpu };
  }
  return out;
}
