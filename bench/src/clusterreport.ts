/**
 * The report's measurements on the Kubernetes node (`npm run cluster`): the HPAs observed, replicas under
 * their pods' CPU limits, the Valkey primary lost under load. Each table and chart is rendered from the
 * newest result file of its benchmark in bench/results (`npm run bench -- --cluster-hpa`, `--cluster-hpa
 * --domain blackfriday`, `--cluster-replicas`, `--cluster-valkey`) and names it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HpaRun, HpaTrace } from './clusterhpa.js';
import type { ReplicaResult, ReplicaStep } from './clusterreplicas.js';
import type { ValkeyRun } from './clustervalkey.js';
import { timelineSvg } from './timeline.js';
import { chart, fmt, L, sourceOf, table, type Lang } from './markdown.js';

interface Stamped {
  date: string;
  commit: string;
  machine: { cores: number };
}
export type HpaFile = Stamped & HpaRun;
export type ReplicasFile = Stamped & { results: ReplicaResult[] };
export type ValkeyFile = Stamped & { runs: ValkeyRun[] };

/** `npm run chaos -- --replicated`'s result (stack/src/chaos.ts ChaosReport): the faults and the totals per path. */
export type NodeLossFile = Stamped & {
  load: { sent: number; ratePerSec: number };
  rows: { fault: string; outageSec: number; recoverSec: number; lost: Record<string, number>; clientErrors: number }[];
  totals: { counted: Record<string, number>; lost: Record<string, number>; duplicated: Record<string, number> };
  passed: boolean;
};

export interface ClusterResults {
  hpa: [string, HpaFile];
  hpaBlackfriday: [string, HpaFile];
  replicas: [string, ReplicasFile];
  valkey: [string, ValkeyFile];
  nodeLoss: [string, NodeLossFile];
}

/** The newest result of each cluster benchmark in `dir`. */
export function latestCluster(dir: string): ClusterResults {
  const files = readdirSync(dir).sort();
  const newest = <T>(kind: string): [string, T] => {
    const f = files.filter((x) => x.endsWith(`-${kind}.json`) && !x.includes(`-${kind}-`)).at(-1);
    if (!f)
      throw new Error(
        `no ${kind} result in ${dir}: run npm run bench -- --${kind.replace('-blackfriday', ' --domain blackfriday')} with the cluster up`,
      );
    return [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as T];
  };
  return {
    hpa: newest('cluster-hpa'),
    hpaBlackfriday: newest('cluster-hpa-blackfriday'),
    replicas: newest('cluster-replicas'),
    valkey: newest('cluster-valkey'),
    nodeLoss: newest('node-loss'),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : null;
};

/** The HPA's CPU (% of the request) in a phase, at a replica count, from its samples. */
function cpuIn(run: HpaRun, h: HpaTrace, phase: string, replicas: number, pick: (xs: number[]) => number | null): number | null {
  const start = run.steps.find((s) => s.phase === phase)?.t ?? 0;
  const end = run.steps.filter((s) => s.phase === phase).at(-1)!.t + 10;
  return pick(
    h.samples.filter((s) => s.t >= start && s.t < end && s.replicas === replicas && s.cpuPercent !== null).map((s) => s.cpuPercent!),
  );
}

function hpaTable(lang: Lang, [file, r]: [string, HpaFile]): string {
  const [low, high] = r.phases;
  const unit = r.domain === 'weather' ? 'tweets' : L(lang, 'sales', 'ventas');
  const rows = r.hpas.map((h) => [
    `\`${h.deployment}\``,
    `${h.hpa.min}–${h.hpa.max}, ${h.hpa.targetPercent} %`,
    `${fmt(cpuIn(r, h, low!.name, h.hpa.min, median))} %`,
    `${fmt(cpuIn(r, h, high!.name, h.hpa.min, (xs) => (xs.length ? Math.max(...xs) : null)))} %`,
    `${fmt(cpuIn(r, h, high!.name, h.maxReplicas, median))} % × ${h.maxReplicas}`,
    h.reachedMaxAt === null ? L(lang, 'never', 'nunca') : `${fmt(h.reachedMaxAt - low!.seconds)} s`,
    h.backToMinAt === null
      ? h.maxReplicas === h.hpa.min
        ? '—'
        : L(lang, 'never', 'nunca')
      : `${fmt(h.backToMinAt - low!.seconds - high!.seconds)} s`,
  ]);
  const t = r.totals;
  const paths = Object.keys(t.lost);
  const notAccepted = r.steps.reduce((n, s) => n + s.non2xx + s.errors, 0);
  return [
    table(
      [
        L(lang, 'HPA', 'HPA'),
        L(lang, 'replicas, target', 'réplicas, objetivo'),
        L(lang, `CPU at ${low!.rate} ${unit}/s`, `CPU a ${low!.rate} ${unit}/s`),
        L(lang, `CPU at ${high!.rate}/s, before scaling`, `CPU a ${high!.rate}/s, antes de escalar`),
        L(lang, `CPU at ${high!.rate}/s, scaled`, `CPU a ${high!.rate}/s, escalado`),
        L(lang, `at its maximum after the rise`, 'en su máximo tras la subida'),
        L(lang, 'back to its minimum after the fall', 'de vuelta a su mínimo tras la bajada'),
      ],
      rows,
    ),
    '',
    L(
      lang,
      `Load through the ingress: ${r.phases.map((p) => `${p.rate}/s for ${p.seconds} s`).join(', then ')}; CPU as the HPA saw it (metrics-server, % of the pod's request, averaged over its pods). Scale-down stabilization ${r.hpas[0]!.hpa.scaleDownStabilizationSec.used} s for the run (the manifests' ${r.hpas[0]!.hpa.scaleDownStabilizationSec.manifest} s). ${fmt(t.sent)} ${unit} sent, ${fmt(t.accepted)} accepted (${notAccepted} answered with an error status); lost: ${paths.map((p) => `${p} ${t.lost[p]}`).join(', ')}; counted twice: ${paths.map((p) => `${p} ${t.doubled[p]}`).join(', ')}.`,
      `Carga por el ingress: ${r.phases.map((p) => `${p.rate}/s durante ${p.seconds} s`).join(', luego ')}; la CPU como la vio el HPA (metrics-server, % del request del pod, promedio de sus pods). Estabilización de bajada de ${r.hpas[0]!.hpa.scaleDownStabilizationSec.used} s para la corrida (la de los manifiestos: ${r.hpas[0]!.hpa.scaleDownStabilizationSec.manifest} s). ${fmt(t.sent)} ${unit} enviados, ${fmt(t.accepted)} aceptados (${notAccepted} respondidos con un estado de error); perdidos: ${paths.map((p) => `${p} ${t.lost[p]}`).join(', ')}; contados dos veces: ${paths.map((p) => `${p} ${t.doubled[p]}`).join(', ')}.`,
    ),
    sourceOf(lang, [file], [r]),
  ].join('\n');
}

/** The highest rate every configuration passed: where they are compared side by side. */
const commonRate = (rs: ReplicaResult[]) => Math.min(...rs.map((r) => r.maxRate));
const stepAt = (r: ReplicaResult, rate: number): ReplicaStep | undefined => r.steps.find((s) => s.rate === rate && s.passed);
const cpu = (s: ReplicaStep | undefined, f: (w: string) => boolean) =>
  s
    ? Object.entries(s.cpuSecPer1000)
        .filter(([w]) => f(w))
        .reduce((n, [, v]) => n + v, 0)
    : null;
const APP = ['ingest-api', 'dispatcher', 'writer-kafka', 'writer-rabbitmq', 'kafka-consumer', 'rabbitmq-consumer'];
/** The CPU columns at the common rate: the API's, the writers', all six services'. */
const CPU_COLUMNS = [(w: string) => w === 'ingest-api', (w: string) => w.startsWith('writer-'), (w: string) => APP.includes(w)];

function replicasTable(lang: Lang, [file, f]: [string, ReplicasFile]): string {
  const rs = f.results;
  const common = commonRate(rs);
  const name = (r: ReplicaResult) =>
    lang === 'en'
      ? r.name
      : r.name.replace('1 API, 1 writer per broker', '1 API, 1 writer por broker').replace('2 writers per broker', '2 writers por broker');
  const rows = rs.map((r) => {
    const top = stepAt(r, r.maxRate);
    const at = stepAt(r, common);
    return [
      name(r),
      fmt(r.maxRate),
      fmt(r.maxRate / r.apis),
      top ? `${fmt(top.p50Ms, 1)} / ${fmt(top.p99Ms, 1)}` : '—',
      at ? `${fmt(at.p50Ms, 1)} / ${fmt(at.p99Ms, 1)}` : '—',
      ...CPU_COLUMNS.map((only) => fmt(cpu(at, only), 3)),
    ];
  });
  const lim = rs[0]!.limits;
  return [
    table(
      [
        L(lang, 'pods', 'pods'),
        L(lang, 'top rate (tweets/s)', 'tasa máxima (tweets/s)'),
        L(lang, 'per API pod', 'por pod de API'),
        L(lang, 'p50 / p99 ms at top', 'p50 / p99 ms en la máxima'),
        L(lang, `p50 / p99 ms at ${fmt(common)}/s`, `p50 / p99 ms a ${fmt(common)}/s`),
        L(lang, `API CPU s per 1,000 at ${fmt(common)}/s`, `CPU s de la API por 1,000 a ${fmt(common)}/s`),
        L(lang, 'writers', 'writers'),
        L(lang, 'all six services', 'los seis servicios'),
      ],
      rows,
    ),
    '',
    L(
      lang,
      `Each pod with its manifest's CPU request and limit (API ${lim['ingest-api']!.request}/${lim['ingest-api']!.limit}, writers ${lim['writer-kafka']!.request}/${lim['writer-kafka']!.limit}); the HPA held at the count. Rates rise in 20-s steps through the ingress until one fails (a tweet not accepted, or p99 over 100 ms); CPU from the pods' own cgroups. One node of ${f.machine.cores} cores runs the brokers, Valkey and the control plane too.`,
      `Cada pod con el request y el limit de CPU de su manifiesto (API ${lim['ingest-api']!.request}/${lim['ingest-api']!.limit}, writers ${lim['writer-kafka']!.request}/${lim['writer-kafka']!.limit}); el HPA fijo en la cantidad. Las tasas suben en pasos de 20 s por el ingress hasta que uno falla (un tweet no aceptado, o p99 arriba de 100 ms); la CPU, de los cgroups de los pods. Un nodo de ${f.machine.cores} núcleos corre también los brokers, Valkey y el plano de control.`,
    ),
    sourceOf(lang, [file], [f]),
  ].join('\n');
}

/** How the lost primary was replaced in a Valkey run. */
const modeName = (lang: Lang, m: ValkeyRun['mode']) =>
  m === 'kubernetes'
    ? L(lang, 'left to Kubernetes', 'dejado a Kubernetes')
    : L(lang, 'replica promoted by hand', 'réplica promovida a mano');

function valkeyTable(lang: Lang, [file, f]: [string, ValkeyFile]): string {
  const paths = Object.keys(f.runs[0]!.totals.lost);
  const rows = f.runs.map((r) => [
    modeName(lang, r.mode),
    r.countingResumedAfterSec === null ? L(lang, 'never stalled', 'nunca se detuvo') : `${fmt(r.countingResumedAfterSec, 1)} s`,
    r.primaryReadyAfterSec === null ? '—' : `${fmt(r.primaryReadyAfterSec, 1)} s`,
    `${fmt(r.longestAcceptGapSec)} s`,
    fmt(r.totals.accepted),
    paths.map((p) => r.totals.lost[p]).join(' / '),
    paths.map((p) => r.totals.doubled[p]).join(' / '),
  ]);
  return [
    table(
      [
        L(lang, 'the primary lost', 'el primario perdido'),
        L(lang, 'counting resumed after', 'el conteo siguió después de'),
        L(lang, 'valkey-0 ready again after', 'valkey-0 listo de nuevo después de'),
        L(lang, 'longest time with nothing accepted', 'tiempo más largo sin aceptar nada'),
        L(lang, 'accepted', 'aceptados'),
        L(lang, `lost (${paths.join(' / ')})`, `perdidos (${paths.join(' / ')})`),
        L(lang, 'counted twice', 'contados dos veces'),
      ],
      rows,
    ),
    '',
    sourceOf(lang, [file], [f]),
  ].join('\n');
}

/** The node-loss run: per fault the outage a client saw and what was lost, then each path's totals. */
function nodeLossTable(lang: Lang, [file, r]: [string, NodeLossFile]): string {
  const paths = Object.keys(r.totals.counted);
  const faults = table(
    [
      L(lang, 'fault', 'falla'),
      L(lang, 'nothing accepted for (s)', 'nada aceptado durante (s)'),
      L(lang, 'recovered in (s)', 'recuperado en (s)'),
      ...paths.map((p) => L(lang, `lost ${p}`, `perdidos ${p}`)),
      L(lang, 'errors clients saw (retried)', 'errores que vieron los clientes (reintentados)'),
    ],
    r.rows.map((row) => [
      `\`${row.fault}\``,
      fmt(row.outageSec, 1),
      fmt(row.recoverSec, 1),
      ...paths.map((p) => fmt(row.lost[p] ?? 0)),
      fmt(row.clientErrors),
    ]),
  );
  const totals = table(
    [
      L(lang, 'path', 'camino'),
      L(lang, 'distinct tweets accepted', 'tweets distintos aceptados'),
      L(lang, 'counted', 'contados'),
      L(lang, 'lost', 'perdidos'),
      L(lang, 'doubled', 'duplicados'),
    ],
    paths.map((p) => [p, fmt(r.load.sent), fmt(r.totals.counted[p]), fmt(r.totals.lost[p]), fmt(r.totals.duplicated[p])]),
  );
  return [faults, '', totals, '', sourceOf(lang, [file], [r])].join('\n');
}

/** The report's sections measured on the node, by marker name. */
export function clusterSections(c: ClusterResults, lang: Lang): Record<string, string> {
  const withChart = (en: string, es: string, name: string, body: string) => [chart(lang, name, L(lang, en, es)), '', body].join('\n');
  return {
    clusterhpa: withChart("The API's HPA under load", 'El HPA de la API bajo carga', 'cluster-hpa', hpaTable(lang, c.hpa)),
    clusterhpablackfriday: withChart(
      'The Black Friday HPAs under load',
      'Los HPA de Black Friday bajo carga',
      'cluster-hpa-blackfriday',
      hpaTable(lang, c.hpaBlackfriday),
    ),
    clusterreplicas: replicasTable(lang, c.replicas),
    nodeloss: nodeLossTable(lang, c.nodeLoss),
    clustervalkey: withChart(
      'The Valkey primary lost under load',
      'El primario de Valkey perdido bajo carga',
      'cluster-valkey',
      valkeyTable(lang, c.valkey),
    ),
  };
}

/** The HPA run's timeline: each HPA's replicas and CPU, the rate offered and achieved, the latency. */
export function hpaSvg(r: HpaRun & { commit?: string }, lang: Lang = 'en'): string {
  const at = (h: HpaTrace, f: (s: HpaRun['hpas'][number]['samples'][number]) => number | null) =>
    h.samples.filter((s) => f(s) !== null).map((s) => [s.t, f(s)!] as [number, number]);
  const steps = (f: (s: HpaRun['steps'][number]) => number) => r.steps.map((s) => [s.t + 5, f(s)] as [number, number]);
  const unit = r.domain === 'weather' ? 'tweets/s' : L(lang, 'sales/s', 'ventas/s');
  const hpaPanels = r.hpas.flatMap((h) => [
    {
      title: L(lang, `${h.deployment}: replicas (${h.hpa.min}-${h.hpa.max})`, `${h.deployment}: réplicas (${h.hpa.min}-${h.hpa.max})`),
      unit: 'pods',
      series: [
        { name: L(lang, 'current', 'actuales'), points: at(h, (s) => s.replicas), step: true, color: '#1f77b4' },
        { name: L(lang, 'desired', 'deseadas'), points: at(h, (s) => s.desired), step: true, color: '#ff7f0e' },
        { name: L(lang, 'ready', 'listas'), points: at(h, (s) => s.ready), step: true, color: '#2ca02c' },
      ],
    },
    {
      title: L(lang, `${h.deployment}: the HPA's CPU`, `${h.deployment}: la CPU del HPA`),
      unit: L(lang, '% of the request', '% del request'),
      series: [
        { name: L(lang, 'current', 'actual'), points: at(h, (s) => s.cpuPercent), color: '#d62728' },
        {
          name: L(lang, 'target', 'objetivo'),
          points: h.samples.map((s) => [s.t, h.hpa.targetPercent] as [number, number]),
          color: '#999',
        },
      ],
    },
  ]);
  return timelineSvg(
    `${L(lang, 'HPAs under a load through the ingress', 'HPA bajo una carga por el ingress')} (${r.domain}${r.commit ? `, ${r.commit}` : ''})`,
    [
      ...hpaPanels,
      {
        title: L(lang, 'rate', 'tasa'),
        unit,
        series: [
          { name: L(lang, 'offered', 'ofrecida'), points: steps((s) => s.rate), step: true, color: '#999' },
          { name: L(lang, 'accepted', 'aceptada'), points: steps((s) => s.achievedRate), color: '#1f77b4' },
        ],
      },
      {
        title: L(lang, 'latency', 'latencia'),
        unit: 'ms',
        series: [
          { name: 'p50', points: steps((s) => s.p50Ms), color: '#2ca02c' },
          { name: 'p99', points: steps((s) => s.p99Ms), color: '#d62728' },
        ],
      },
    ],
    L(lang, 'seconds since the load started', 'segundos desde que empezó la carga'),
  );
}

/** The Valkey runs' timelines side by side: accepted and counted per second, who is ready, what the replica holds. */
export function valkeySvg(f: ValkeyFile, lang: Lang = 'en'): string {
  const perSec = (r: ValkeyRun, p: string) =>
    r.timeline.slice(1).map((s, i) => [s.t, Math.max(0, s.counted[p]! - r.timeline[i]!.counted[p]!)] as [number, number]);
  const colors = ['#1f77b4', '#ff7f0e'];
  const panels = f.runs.flatMap((r) => {
    const m = modeName(lang, r.mode);
    const along = (pick: (s: ValkeyRun['timeline'][number]) => number) => r.timeline.map((s) => [s.t, pick(s)] as [number, number]);
    return [
      {
        title: L(lang, `${m}: tweets per second (killed at ${r.killedAt} s)`, `${m}: tweets por segundo (eliminado a los ${r.killedAt} s)`),
        unit: 'tweets/s',
        series: [
          { name: L(lang, 'accepted', 'aceptados'), points: along((s) => s.accepted), color: '#999' },
          ...Object.keys(r.totals.lost).map((p, i) => ({
            name: L(lang, `counted, ${p}`, `contados, ${p}`),
            points: perSec(r, p),
            color: colors[i]!,
          })),
        ],
      },
      {
        title: L(lang, `${m}: ready`, `${m}: listos`),
        unit: 'pods',
        series: [
          { name: L(lang, 'consumers', 'consumidores'), points: along((s) => s.consumersReady), step: true, color: '#2ca02c' },
          { name: 'valkey-0', points: along((s) => (s.primaryReady ? 1 : 0)), step: true, color: '#d62728' },
        ],
      },
    ];
  });
  return timelineSvg(
    L(lang, `The Valkey primary's pod killed under load (${f.commit})`, `El pod primario de Valkey eliminado bajo carga (${f.commit})`),
    panels,
    L(lang, 'seconds since the load started', 'segundos desde que empezó la carga'),
  );
}

/** The charts of the cluster sections, by file name under docs/report (without `.svg`), in one language. */
export function clusterCharts(c: ClusterResults, lang: Lang): Record<string, string> {
  return {
    'cluster-hpa': hpaSvg(c.hpa[1], lang),
    'cluster-hpa-blackfriday': hpaSvg(c.hpaBlackfriday[1], lang),
    'cluster-valkey': valkeySvg(c.valkey[1], lang),
  };
}
