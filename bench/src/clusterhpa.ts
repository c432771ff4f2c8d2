/**
 * `npm run bench -- --cluster-hpa`: an HorizontalPodAutoscaler observed on the Kubernetes node of `npm run
 * cluster`. An open-loop load through the ingress, low, then high for minutes, then low again (the seed's
 * 10,000-tweet burst ends in seconds, before metrics-server and the HPA's 15-s loops can react), while the
 * HPA's replicas, its current and desired CPU, and the load's rate, p50, p99 and errors are sampled. The
 * scale-down stabilization is shortened for the run (from the manifest's 5 minutes), and put back after.
 * Every id accepted is then looked up in Valkey's dedup sets: none lost, none counted twice.
 */
import { Redis } from 'iovalkey';
import { weather, type BrokerPath, type Domain } from '@tweets/domain';
import { fetchStats, waitForCounts } from '@tweets/loadgen';
import { appliedIds } from '@tweets/store';
import { openLoop, type StepResult } from './openloop.js';
import { kubectlJson, patch, type ClusterTarget } from './kubectl.js';

export interface HpaPhase {
  name: string;
  rate: number;
  seconds: number;
}

/**
 * Low, high for long enough to see the HPA act on it, low again for longer than the shortened stabilization.
 * Low is 5/s: every API pod costs about 8 % of its request doing nothing (probes, metrics, timers), so at
 * 20/s two pods read about 18 % each, ceil(2 × 18 / 30) = 2, and the HPA never goes back to one (measured).
 */
export const HPA_PHASES: HpaPhase[] = [
  { name: 'low', rate: 5, seconds: 60 },
  { name: 'high', rate: 500, seconds: 240 },
  { name: 'low again', rate: 5, seconds: 300 },
];

export interface HpaSample {
  /** Seconds since the load started. */
  t: number;
  replicas: number;
  desired: number;
  ready: number;
  /** The HPA's current CPU, % of the request (averaged over the pods by metrics-server). */
  cpuPercent: number | null;
}

export interface HpaStep extends Pick<
  StepResult,
  'rate' | 'sent' | 'ok' | 'non2xx' | 'statuses' | 'errors' | 'achievedRate' | 'p50Ms' | 'p99Ms'
> {
  t: number;
  phase: string;
}

/** One HPA through the run: its settings, its samples, when it reached its maximum and came back. */
export interface HpaTrace {
  deployment: string;
  hpa: { min: number; max: number; targetPercent: number; scaleDownStabilizationSec: { manifest: number; used: number } };
  samples: HpaSample[];
  maxReplicas: number;
  /** Seconds since the start when the HPA first reached its maximum, and when it was back at its minimum after it. */
  reachedMaxAt: number | null;
  backToMinAt: number | null;
}

export interface HpaRun {
  domain: string;
  namespace: string;
  phases: HpaPhase[];
  /** Every HPA of the namespace, sampled together. */
  hpas: HpaTrace[];
  steps: HpaStep[];
  totals: {
    sent: number;
    accepted: number;
    counted: Record<string, number>;
    lost: Record<string, number>;
    doubled: Record<string, number>;
    countedNotAccepted: Record<string, number>;
  };
}

const STEP_SEC = 10;
const SAMPLE_MS = 5000;

interface Hpa {
  spec: {
    minReplicas: number;
    maxReplicas: number;
    metrics: { resource: { target: { averageUtilization: number } } }[];
    behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } };
  };
  status: {
    currentReplicas?: number;
    desiredReplicas?: number;
    currentMetrics?: { resource?: { current?: { averageUtilization?: number } } }[];
  };
}

/** Samples each HPA and its Deployment every few seconds until `stop` holds. */
async function sampleUntil(
  t: ClusterTarget,
  ns: string,
  names: string[],
  t0: number,
  stop: () => boolean,
  out: Map<string, HpaSample[]>,
): Promise<void> {
  while (!stop()) {
    await Promise.all(
      names.map(async (name) => {
        const [h, d] = await Promise.all([
          kubectlJson<Hpa>(t, ['-n', ns, 'get', 'hpa', name]),
          kubectlJson<{ status: { readyReplicas?: number } }>(t, ['-n', ns, 'get', 'deployment', name]),
        ]);
        out.get(name)!.push({
          t: Math.round((Date.now() - t0) / 100) / 10,
          replicas: h.status.currentReplicas ?? 0,
          desired: h.status.desiredReplicas ?? 0,
          ready: d.status.readyReplicas ?? 0,
          cpuPercent: h.status.currentMetrics?.[0]?.resource?.current?.averageUtilization ?? null,
        });
      }),
    );
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
  }
}

/** Each HPA's scale-down stabilization set to `sec` (the manifests' own when `sec` is undefined). */
async function setStabilization(t: ClusterTarget, ns: string, hpas: Map<string, Hpa>, sec?: number): Promise<void> {
  for (const [name, h] of hpas) {
    const s = sec ?? h.spec.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300;
    await patch(t, ns, 'hpa', name, { spec: { behavior: { scaleDown: { stabilizationWindowSeconds: s } } } });
  }
}

/** The run: the HPAs' scale-down window shortened, the load's phases in steps, the samples, then the check. */
export async function runClusterHpa(
  t: ClusterTarget,
  o: { namespace?: string; domain?: Domain; phases?: HpaPhase[]; stabilizationSec?: number; log: (m: string) => void },
): Promise<HpaRun> {
  const d = o.domain ?? weather;
  const ns = o.namespace ?? 'tweets';
  const phases = o.phases ?? HPA_PHASES;
  const used = o.stabilizationSec ?? 60;
  const list = await kubectlJson<{ items: (Hpa & { metadata: { name: string } })[] }>(t, ['-n', ns, 'get', 'hpa']);
  const hpas = new Map(list.items.map((h) => [h.metadata.name, h]));
  const names = [...hpas.keys()];
  await setStabilization(t, ns, hpas, used);
  const prefix = `hpa-${Date.now().toString(36)}`;
  const before = await fetchStats<Domain>(t.entry);
  const samples = new Map(names.map((n) => [n, [] as HpaSample[]]));
  const steps: HpaStep[] = [];
  const accepted: { ids: string[]; ok: Uint8Array }[] = [];
  let done = false;
  const t0 = Date.now();
  const sampling = sampleUntil(t, ns, names, t0, () => done, samples);
  try {
    for (const p of phases) {
      o.log(`${p.name}: ${p.rate} ${d.name === 'weather' ? 'tweets' : 'items'}/s for ${p.seconds} s`);
      for (let s = 0; s < p.seconds / STEP_SEC; s++) {
        const idPrefix = `${prefix}-${steps.length}`;
        const ok = new Uint8Array(Math.floor(p.rate * STEP_SEC) + 1);
        const at = (Date.now() - t0) / 1000;
        const r = await openLoop({
          url: t.entry,
          path: d.resource,
          domain: d,
          rate: p.rate,
          durationMs: STEP_SEC * 1000,
          connections: 128,
          idPrefix,
          accepted: ok,
          timeoutMs: 10_000,
        });
        accepted.push({ ids: Array.from({ length: r.sent }, (_, n) => `${idPrefix}-${n}`), ok });
        // a step as the run keeps it: the load's counts, rate and p50/p99, not its p90, max and per-second tail
        const { durationMs: _d, p90Ms: _p90, maxMs: _max, maxBySecondMs: _bySecond, ...kept } = r;
        steps.push({ t: Math.round(at * 10) / 10, phase: p.name, ...kept });
        const now = names.map((n) => {
          const l = samples.get(n)!.at(-1);
          return `${n} ${l?.replicas} (desired ${l?.desired}, CPU ${l?.cpuPercent}%)`;
        });
        o.log(
          `  t=${Math.round(at)} s: ${r.achievedRate}/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ${r.non2xx + r.errors} not accepted${r.non2xx ? ` (${JSON.stringify(r.statuses)})` : ''}; ${now.join('; ')}`,
        );
      }
    }
  } finally {
    done = true;
    await sampling;
    await setStabilization(t, ns, hpas);
  }
  const traces = names.map((n): HpaTrace => {
    const h = hpas.get(n)!;
    const manifest = h.spec.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300;
    const hpa = {
      min: h.spec.minReplicas,
      max: h.spec.maxReplicas,
      targetPercent: h.spec.metrics[0]!.resource.target.averageUtilization,
      scaleDownStabilizationSec: { manifest, used },
    };
    return { deployment: n, hpa, samples: samples.get(n)!, ...milestones(samples.get(n)!, h.spec.minReplicas, h.spec.maxReplicas) };
  });
  return { domain: d.name, namespace: ns, phases, hpas: traces, steps, totals: await check(t, d, before, accepted) };
}

/** When the HPA first reached its maximum, and when it was back at its minimum after that. */
function milestones(samples: HpaSample[], min: number, max: number): Pick<HpaTrace, 'maxReplicas' | 'reachedMaxAt' | 'backToMinAt'> {
  const top = samples.find((s) => s.replicas === max);
  const back = top ? samples.find((s) => s.t > top.t && s.replicas === min) : undefined;
  return { maxReplicas: Math.max(0, ...samples.map((s) => s.replicas)), reachedMaxAt: top?.t ?? null, backToMinAt: back?.t ?? null };
}

/** Every accepted id looked up in each path's dedup sets: lost (accepted, not counted), and the counts' rise beyond the distinct ids. */
async function check(
  t: ClusterTarget,
  d: Domain,
  before: Awaited<ReturnType<typeof fetchStats<Domain>>>,
  accepted: { ids: string[]; ok: Uint8Array }[],
): Promise<HpaRun['totals']> {
  const sent = accepted.reduce((n, a) => n + a.ids.length, 0);
  const ok = accepted.reduce((n, a) => n + a.ok.reduce((x, y) => x + y, 0), 0);
  await waitForCounts<Domain>(t.entry, before, Object.fromEntries(d.paths.map((p) => [p, ok])), 300_000);
  await new Promise((r) => setTimeout(r, 3000));
  const after = await fetchStats<Domain>(t.entry);
  const valkey = new Redis({ host: t.valkey.host, port: t.valkey.port, username: 'reader', password: t.valkey.password });
  const totals: HpaRun['totals'] = { sent, accepted: ok, counted: {}, lost: {}, doubled: {}, countedNotAccepted: {} };
  try {
    for (const p of d.paths as readonly BrokerPath[]) {
      let applied = 0;
      let lost = 0;
      let extra = 0;
      for (const a of accepted) {
        const hits = await appliedIds(valkey, d.keyPrefix, p, a.ids);
        hits.forEach((h, i) => {
          applied += h;
          if (a.ok[i] && !h) lost++;
          if (!a.ok[i] && h) extra++;
        });
      }
      const total = (s: typeof after) => (s.paths as Record<string, { total: number }>)[p]!.total;
      const rise = total(after) - total(before);
      totals.counted[p] = rise;
      totals.lost[p] = lost;
      totals.doubled[p] = rise - applied;
      totals.countedNotAccepted[p] = extra;
    }
  } finally {
    valkey.disconnect();
  }
  return totals;
}
