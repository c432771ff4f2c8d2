/**
 * The technical report's measured parts (docs/report.md, docs/report.es.md):
 * its tables and charts are rendered from one `npm run bench -- --report` run,
 * whose manifest (bench/results/<time>-<commit>-report.json) names the result
 * files of that run. The prose around them stays as written; each table sits
 * between `<!-- report:name -->` and `<!-- /report:name -->`.
 */
import { architectureSvg } from './architecture.js';
import { chart, esc, fmt, L, link, sourceOf, svgFile, svgHead, table, type Lang } from './markdown.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResults, ScenarioResult } from './report.js';
import type { ReplicaResult } from './replica.js';
import type { TransportResult } from './transport.js';
import { clusterCharts, clusterSections, latestCluster } from './clusterreport.js';

/** The open-loop scenarios the report compares (the bare endpoint and the naive pipeline are `npm run bench`'s). */
export const REPORT_SCENARIOS = [
  'fanout',
  'kafkaOnly',
  'rabbitmqOnly',
  'fanoutWriters2',
  'fanoutApis1',
  'fanoutApis2',
  'fanoutApis3',
] as const;
type ReportScenario = (typeof REPORT_SCENARIOS)[number];

export interface Manifest {
  date: string;
  commit: string;
  quick: boolean;
  machine: { cores: number; cpuModel: string; node: string };
  durationSec: number;
  /** One file per run and kind (a manifest from before repeated runs names one file per kind). */
  files: Record<'openLoop' | 'transport' | 'valkeyReplica', string[] | string>;
}

interface Measured<R> {
  date: string;
  commit: string;
  results: R[];
}

export interface ReportRun {
  /** The manifest's file name in bench/results/. */
  file: string;
  manifest: Manifest;
  /** Each kind's files and results, one per repeated run, in run order. */
  files: Record<'openLoop' | 'transport' | 'valkeyReplica', string[]>;
  openLoops: BenchResults[];
  transports: Measured<TransportResult>[];
  valkeyReplicas: Measured<ReplicaResult>[];
}

/** The HPA of the API as deployed: read from its manifest, so the report's arithmetic follows the deployment. */
export interface ApiScaling {
  requestMillicores: number;
  targetPercent: number;
  minReplicas: number;
  maxReplicas: number;
}

export function apiScaling(yaml: string): ApiScaling {
  const num = (re: RegExp, what: string) => {
    const m = re.exec(yaml);
    if (!m) throw new Error(`the API's manifest has no ${what}`);
    return Number(m[1]);
  };
  return {
    requestMillicores: num(/requests:\s*\{\s*cpu:\s*(\d+)m/, 'CPU request in millicores'),
    targetPercent: num(/averageUtilization:\s*(\d+)/, 'CPU utilization target'),
    minReplicas: num(/minReplicas:\s*(\d+)/, 'minReplicas'),
    maxReplicas: num(/maxReplicas:\s*(\d+)/, 'maxReplicas'),
  };
}

/** The newest report run in `dir` (quick or not): its manifest and the files it names. */
export function latestRun(dir: string, quick: boolean): ReportRun {
  const read = <T>(f: string): T => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T;
  const [file, manifest] =
    readdirSync(dir)
      .filter((f) => f.endsWith('-report.json'))
      .sort()
      .map((f) => [f, read<Manifest>(f)] as const)
      .filter(([, m]) => m.quick === quick)
      .at(-1) ?? [];
  if (!file || !manifest)
    throw new Error(`no ${quick ? 'quick ' : ''}report run in ${dir}: run npm run bench -- --report${quick ? ' --quick' : ''}`);
  const list = (f: string[] | string) => (Array.isArray(f) ? f : [f]);
  const files = {
    openLoop: list(manifest.files.openLoop),
    transport: list(manifest.files.transport),
    valkeyReplica: list(manifest.files.valkeyReplica),
  };
  return {
    file,
    manifest,
    files,
    openLoops: files.openLoop.map((f) => read<BenchResults>(f)),
    transports: files.transport.map((f) => read<Measured<TransportResult>>(f)),
    valkeyReplicas: files.valkeyReplica.map((f) => read<Measured<ReplicaResult>>(f)),
  };
}

/** CPU seconds per 1,000 tweets of the named processes (all when none named) at a step's rate. */
function cpuAt(s: ScenarioResult, rate: number, only?: (process: string) => boolean): number | null {
  const picked = Object.entries(s.steps.find((x) => x.rate === rate)?.cpuSecPer1000 ?? {}).filter(([n]) => (only ? only(n) : true));
  return picked.length ? picked.reduce((a, [, v]) => a + v, 0) : null;
}

/** `spread` of one figure picked out of each run's result. */
function spreadOf<T>(xs: readonly T[], figure: (x: T) => number | null | undefined, digits = 0): string {
  return spread(xs.map(figure), digits);
}

const ranAt = (s: ScenarioResult, rate: number) => s.steps.find((x) => x.rate === rate);

/**
 * The rate a comparison's figures are taken at: the highest up to 5,000/s that every scenario of every run
 * passed; if there is none (a scenario failed even its first step, on latency), the lowest rate all ran.
 */
function commonRate(ss: readonly ScenarioResult[]): number | null {
  const rates = [...new Set(ss.flatMap((s) => s.steps.map((x) => x.rate)))].filter((r) => r <= 5000).sort((a, b) => a - b);
  const passed = rates.filter((r) => ss.every((s) => s.steps.some((x) => x.rate === r && x.passed))).at(-1);
  return passed ?? rates.find((r) => ss.every((s) => ranAt(s, r))) ?? null;
}

/** The p99 of the runs' steps at one rate, then how many of them failed the criteria (nothing when none did). */
function p99Cell(lang: Lang, steps: readonly { p99Ms: number; passed: boolean }[]): string {
  const p99 = spreadOf(steps, (x) => x.p99Ms, 1);
  const failed = steps.filter((x) => !x.passed).length;
  if (!failed) return p99;
  return failed === steps.length
    ? p99 + L(lang, ' (fails)', ' (falla)')
    : p99 + L(lang, ` (fails in ${failed} of ${steps.length})`, ` (falla en ${failed} de ${steps.length})`);
}

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** The median of the figures measured (null when none was). */
export function median(xs: readonly (number | null | undefined)[]): number | null {
  const v = xs.filter(finite).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Repeated runs in one cell: the median, then the lowest and highest in brackets ("1,400 (1,200–1,600)"). */
function spread(xs: readonly (number | null | undefined)[], digits = 0): string {
  const v = xs.filter(finite);
  if (v.length < 2) return fmt(median(v), digits);
  return `${fmt(median(v), digits)} (${fmt(Math.min(...v), digits)}–${fmt(Math.max(...v), digits)})`;
}

/** Each row's name: a scenario's, or the fan-out's where it is the baseline (one writer, no NGINX). */
const NAMES: Record<ReportScenario | 'direct' | 'writers1', [string, string]> = {
  fanout: ['both brokers (fan-out)', 'ambos brokers (fan-out)'],
  kafkaOnly: ['Kafka only', 'solo Kafka'],
  rabbitmqOnly: ['RabbitMQ only', 'solo RabbitMQ'],
  fanoutWriters2: ['two writers per broker', 'dos writers por broker'],
  fanoutApis1: ['NGINX + 1 API', 'NGINX + 1 API'],
  fanoutApis2: ['NGINX + 2 APIs', 'NGINX + 2 APIs'],
  fanoutApis3: ['NGINX + 3 APIs', 'NGINX + 3 APIs'],
  direct: ['API direct (no NGINX)', 'API directa (sin NGINX)'],
  writers1: ['one writer per broker', 'un writer por broker'],
};
type Row = [ReportScenario, (keyof typeof NAMES)?];
const nameOf = (lang: Lang, k: keyof typeof NAMES) => L(lang, ...NAMES[k]);

/** The rate a comparison's figures are taken at: one every one of its scenarios passed in every run. */
const rateOf = (rs: readonly BenchResults[], rows: readonly Row[]) => commonRate(rows.flatMap(([k]) => rs.map((r) => r[k])));

/**
 * An open-loop comparison over repeated runs: first CPU per 1,000 tweets at a rate all passed (the headline:
 * it repeats within a few per cent), then the top rate, and latency at both.
 */
function openLoopTable(lang: Lang, rs: readonly BenchResults[], rows: Row[], extra: Extra[]): string {
  const at = rateOf(rs, rows);
  const atRate = (en: string, es: string) => (at ? L(lang, `${en} at ${fmt(at)}/s`, `${es} a ${fmt(at)}/s`) : '—');
  const head = [
    L(lang, 'scenario', 'escenario'),
    atRate('CPU s per 1,000', 'CPU s por 1,000'),
    ...extra.map((e) => atRate(...e.head)),
    atRate('p99 ms', 'p99 ms'),
    L(lang, 'max rate (tweets/s)', 'tasa máxima (tweets/s)'),
    L(lang, 'p99 ms at max', 'p99 ms en la máxima'),
  ];
  const body = rows.map(([k, label]) => {
    const ss = rs.map((r) => r[k]);
    const cpu = (only?: (n: string) => boolean) => spreadOf(ss, (s) => (at ? cpuAt(s, at, only) : null), 3);
    return [
      nameOf(lang, label ?? k),
      cpu(),
      ...extra.map((e) => cpu(e.only)),
      at
        ? p99Cell(
            lang,
            ss.flatMap((s) => ranAt(s, at) ?? []),
          )
        : '—',
      maxRateCell(ss),
      spreadOf(ss, (s) => s.p99Ms, 1),
    ];
  });
  return table(head, body);
}

/**
 * The top rates of repeated runs: the median, the lowest and the highest. A run that failed even its first
 * step has no top rate on the ladder: it counts as below that rate ("< 1,000"), lower than any that passed.
 */
function maxRateCell(ss: readonly ScenarioResult[]): string {
  const below = (s: ScenarioResult) => s.maxRate === 0 && s.steps.length > 0 && !s.steps[0]!.passed;
  const ranked = [...ss].sort((a, b) => (below(a) ? -1 : a.maxRate) - (below(b) ? -1 : b.maxRate));
  const show = (s: ScenarioResult) => (below(s) ? `< ${fmt(s.steps[0]!.rate)}` : fmt(s.maxRate));
  if (ranked.length === 0) return '—';
  if (ranked.length === 1 || ranked.every((s) => !below(s))) return below(ranked[0]!) ? show(ranked[0]!) : spreadOf(ss, (s) => s.maxRate);
  const mid = ranked.length % 2 ? show(ranked[(ranked.length - 1) / 2]!) : show(ranked[ranked.length / 2 - 1]!);
  return `${mid} (${show(ranked[0]!)}–${show(ranked.at(-1)!)})`;
}

const BROKER = (n: string) => n === 'kafka' || n === 'rabbitmq';
const isApi = (n: string) => /^ingest-api(-\d)?$/.test(n);

/** A CPU column of its own: the processes it sums. */
type Extra = { head: [string, string]; only: (process: string) => boolean };

/** The open-loop comparisons, each a table and a chart: the title, the rows, and the CPU columns of their own. */
const COMPARISONS: Record<'brokers' | 'writers' | 'apis', { title: [string, string]; rows: Row[]; extra: Extra[] }> = {
  brokers: {
    title: ['Kafka only, RabbitMQ only and both', 'Solo Kafka, solo RabbitMQ y ambos'],
    rows: [['kafkaOnly'], ['rabbitmqOnly'], ['fanout']],
    extra: [
      { head: ['broker CPU s per 1,000', 'CPU del broker s por 1,000'], only: BROKER },
      { head: ['writer CPU s per 1,000', 'CPU del writer s por 1,000'], only: (p) => p.startsWith('writer-') },
      { head: ['consumer CPU s per 1,000', 'CPU del consumidor s por 1,000'], only: (p) => p.endsWith('-consumer') },
    ],
  },
  writers: {
    title: ['One against two writers per broker', 'Uno contra dos writers por broker'],
    rows: [['fanout', 'writers1'], ['fanoutWriters2']],
    extra: [
      { head: ['brokers CPU s per 1,000', 'CPU de los brokers s por 1,000'], only: BROKER },
      { head: ['writers CPU s per 1,000', 'CPU de los writers s por 1,000'], only: (p) => p.startsWith('writer-') },
    ],
  },
  apis: {
    title: ['NGINX in front of one to three APIs', 'NGINX delante de una a tres APIs'],
    rows: [['fanout', 'direct'], ['fanoutApis1'], ['fanoutApis2'], ['fanoutApis3']],
    extra: [
      { head: ['NGINX CPU s per 1,000', 'CPU de NGINX s por 1,000'], only: (p) => p === 'nginx' },
      { head: ['APIs CPU s per 1,000', 'CPU de las APIs s por 1,000'], only: isApi },
    ],
  },
};

/** The same measurement (same case, same batch size) out of each repeated run, in the first run's order. */
function alike<R extends { batchSize: number }>(runs: readonly { results: R[] }[], key: (r: R) => string): R[][] {
  return (runs[0]?.results ?? []).map((first) =>
    runs.flatMap((run) => run.results.filter((x) => key(x) === key(first) && x.batchSize === first.batchSize)),
  );
}

/** Every measured section of the report, keyed by its marker name, in one language. */
export function sections(run: ReportRun, scaling: ApiScaling, lang: Lang): Record<string, string> {
  const c = context(run, scaling, lang);
  return {
    run: runSection(c),
    seedload: seedloadSection(c),
    brokers: comparisonSection(c, 'brokers'),
    loads: loadsSection(c),
    writers: comparisonSection(c, 'writers'),
    apis: comparisonSection(c, 'apis'),
    transport: transportSection(c),
    replica: replicaSection(c),
    hpa: hpaSection(c),
  };
}

/** What the sections share: the run, its figures across runs, where they come from, and how a figure is laid out. */
function context(run: ReportRun, scaling: ApiScaling, lang: Lang) {
  const rs = run.openLoops;
  // a measured section: its chart, its table, where the figures come from
  const figure = (name: string, alt: [string, string], body: string, footer: string) =>
    [chart(lang, name, L(lang, ...alt)), '', body, '', footer].join('\n');
  const seeds = rs.flatMap((r) => (r.seedLoads ? [r.seedLoads] : []));
  return { run, scaling, lang, rs, olSource: sourceOf(lang, run.files.openLoop, rs), seeds, figure };
}
type Ctx = ReturnType<typeof context>;

function runSection({ run, lang, rs }: Ctx): string {
  const { manifest: m } = run;
  const n = rs.length;
  const minutes = Math.round(m.durationSec / 60);
  const started = new Date(Date.parse(m.date) - m.durationSec * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const files = (i: number) =>
    [run.files.openLoop[i], run.files.transport[i], run.files.valkeyReplica[i]].flatMap((f) => (f ? [link(f)] : [])).join(', ');
  return [
    L(
      lang,
      `Measured by \`npm run bench -- --report\` on commit ${m.commit}, started ${started} UTC, on ${m.machine.cores} cores (${m.machine.cpuModel}), ${rs[0]?.machine.memoryGiB} GiB, Node.js ${m.machine.node}: ${n} run${n === 1 ? '' : 's'}, each on a fresh stack; the whole took ${minutes} minutes. Each cell of the tables below is the median of the runs, with the lowest and the highest in brackets. Files: ${link(run.file)} (the runs' manifest); ${rs.map((_, i) => `run ${i + 1}: ${files(i)}`).join('; ')}. Each open-loop file has its step-by-step table beside it (the same name, \`.md\`).`,
      `Medido con \`npm run bench -- --report\` en el commit ${m.commit}, iniciado el ${started} UTC, en ${m.machine.cores} núcleos (${m.machine.cpuModel}), ${rs[0]?.machine.memoryGiB} GiB, Node.js ${m.machine.node}: ${n} ${n === 1 ? 'ejecución' : 'ejecuciones'}, cada una con un stack nuevo; todo tardó ${minutes} minutos. Cada celda de las tablas de abajo es la mediana de las ejecuciones, con la menor y la mayor entre paréntesis. Archivos: ${link(run.file)} (el manifiesto de las ejecuciones); ${rs.map((_, i) => `ejecución ${i + 1}: ${files(i)}`).join('; ')}. Cada archivo de lazo abierto tiene al lado su tabla paso a paso (el mismo nombre, \`.md\`).`,
    ),
    ...(m.quick ? ['', L(lang, '**Quick run: figures are not comparable.**', '**Ejecución rápida: cifras no comparables.**')] : []),
  ].join('\n');
}

function seedloadSection({ lang, olSource, seeds }: Ctx): string {
  return seeds.length
    ? [
        table(
          [L(lang, 'load', 'carga'), 'tweets/s', 'p50 ms', 'p99 ms'],
          [
            [L(lang, 'one tweet at a time', 'un tweet a la vez'), seeds.map((x) => x.idle)] as const,
            [
              L(
                lang,
                `${seeds[0]!.seed.clients} clients, ${fmt(seeds[0]!.seed.tweets)} tweets (the assignment's load)`,
                `${seeds[0]!.seed.clients} clientes, ${fmt(seeds[0]!.seed.tweets)} tweets (la carga del enunciado)`,
              ),
              seeds.map((x) => x.seed),
            ] as const,
          ].map(([label, xs]) => [
            label,
            spreadOf(xs, (x) => x.throughput),
            spreadOf(xs, (x) => x.p50Ms, 2),
            spreadOf(xs, (x) => x.p99Ms, 2),
          ]),
        ),
        '',
        olSource,
      ].join('\n')
    : L(lang, "(the assignment's load was not run)", '(la carga del enunciado no se ejecutó)');
}

function comparisonSection({ lang, rs, olSource, figure }: Ctx, name: keyof typeof COMPARISONS): string {
  const { title, rows, extra } = COMPARISONS[name];
  return figure(name, title, openLoopTable(lang, rs, rows, extra), olSource);
}

function loadsSection({ lang, rs, olSource }: Ctx): string {
  const ks = rs.map((r) => r.kafkaOnly);
  const qs = rs.map((r) => r.rabbitmqOnly);
  const rates = [...new Set([...ks, ...qs].flatMap((s) => s.steps.map((x) => x.rate)))].sort((a, b) => a - b);
  const cell = (ss: ScenarioResult[], rate: number) => {
    const steps = ss.flatMap((scenario) => scenario.steps.filter((x) => x.rate === rate).map((x) => ({ ...x, scenario })));
    if (!steps.length) return ['—', '—'];
    const ran =
      steps.length < ss.length ? L(lang, ` [${steps.length} of ${ss.length} runs]`, ` [${steps.length} de ${ss.length} ejecuciones]`) : '';
    return [p99Cell(lang, steps) + ran, spreadOf(steps, ({ scenario }) => cpuAt(scenario, rate), 3)];
  };
  return [
    table(
      [
        L(lang, 'offered rate (tweets/s)', 'tasa ofrecida (tweets/s)'),
        L(lang, 'Kafka only: p99 ms', 'solo Kafka: p99 ms'),
        L(lang, 'CPU s per 1,000', 'CPU s por 1,000'),
        L(lang, 'RabbitMQ only: p99 ms', 'solo RabbitMQ: p99 ms'),
        L(lang, 'CPU s per 1,000', 'CPU s por 1,000'),
      ],
      rates.map((rate) => [fmt(rate), ...cell(ks, rate), ...cell(qs, rate)]),
    ),
    '',
    olSource,
  ].join('\n');
}

/** What the transport and replica benchmarks measure alike, per batch size. */
interface PerBatch {
  batchSize: number;
  inFlight: number;
  tweetsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * A per-batch comparison: its label, what was sent, how fast, how long it took, then its own columns; under
 * it, how many batches were in flight and where the figures come from.
 */
function perBatchSection<R extends PerBatch>(
  { lang, figure }: Ctx,
  name: string,
  runs: Measured<R>[],
  files: string[],
  spec: {
    alt: [string, string];
    head: [string, string];
    key: (r: R) => string;
    label: (r: R) => string;
    own: { head: [string, string]; cell: (xs: R[]) => string }[];
    note: (inFlight: number) => [string, string];
  },
): string {
  const head = [L(lang, ...spec.head), L(lang, 'tweets per batch', 'tweets por lote'), 'tweets/s', 'p50 ms', 'p99 ms'];
  const rows = alike(runs, spec.key).map((xs) => [
    spec.label(xs[0]!),
    fmt(xs[0]!.batchSize),
    spreadOf(xs, (x) => x.tweetsPerSec),
    spreadOf(xs, (x) => x.p50Ms, 2),
    spreadOf(xs, (x) => x.p99Ms, 2),
    ...spec.own.map((o) => o.cell(xs)),
  ]);
  const note = L(lang, ...spec.note(runs[0]?.results[0]?.inFlight ?? 0));
  return figure(
    name,
    spec.alt,
    table([...head, ...spec.own.map((o) => L(lang, ...o.head))], rows, 1),
    `${note} ${sourceOf(lang, files, runs)}`,
  );
}

function transportSection(c: Ctx): string {
  return perBatchSection(c, 'transport', c.run.transports, c.run.files.transport, {
    alt: ['REST against gRPC', 'REST contra gRPC'],
    head: ['transport', 'transporte'],
    key: (t) => t.transport,
    label: (t) => t.transport,
    own: [
      { head: ['client CPU µs/tweet', 'CPU cliente µs/tweet'], cell: (ts) => spreadOf(ts, (t) => t.clientUsPerTweet, 1) },
      { head: ['server CPU µs/tweet', 'CPU servidor µs/tweet'], cell: (ts) => spreadOf(ts, (t) => t.serverUsPerTweet, 1) },
    ],
    note: (n) => [`${n} batches in flight.`, `${n} lotes en vuelo.`],
  });
}

function replicaSection(c: Ctx): string {
  return perBatchSection(c, 'replica', c.run.valkeyReplicas, c.run.files.valkeyReplica, {
    alt: ['Valkey without and with a replica', 'Valkey sin y con réplica'],
    head: ['case', 'caso'],
    key: (v) => v.case,
    label: (v) => caseName(c.lang, v.case, false),
    own: [
      { head: ['primary CPU µs/tweet', 'CPU primario µs/tweet'], cell: (vs) => spreadOf(vs, (v) => v.primaryUsPerTweet, 1) },
      {
        head: ['replica CPU µs/tweet', 'CPU réplica µs/tweet'],
        cell: (vs) => (vs[0]!.case === 'alone' ? '—' : spreadOf(vs, (v) => v.replicaUsPerTweet, 1)),
      },
      { head: ['replica caught up (ms)', 'réplica al día (ms)'], cell: (vs) => spreadOf(vs, (v) => v.replicaCatchUpMs, 0) },
    ],
    note: (n) => [`${n} batches at a time, AOF with appendfsync always.`, `${n} lotes a la vez, AOF con appendfsync always.`],
  });
}

function hpaSection({ scaling, lang, rs, olSource, seeds }: Ctx): string {
  const n = rs.length;
  const fanoutAt = commonRate(rs.map((r) => r.fanout));
  const apiCpu = median(rs.map((r) => (fanoutAt ? cpuAt(r.fanout, fanoutAt, isApi) : null)));
  const seedThroughput = median(seeds.map((x) => x.seed.throughput));
  const seedApi = median(seeds.map((x) => x.seed.cpuSecPer1000['ingest-api']));
  const seedMillicores = seedThroughput !== null && seedApi !== null ? seedThroughput * seedApi : null;
  return [
    table(
      [L(lang, 'figure', 'dato'), L(lang, 'value', 'valor')],
      [
        [
          L(
            lang,
            "API pod's CPU request (deploy/k8s/base/ingest-api.yaml)",
            'Petición de CPU del pod de la API (deploy/k8s/base/ingest-api.yaml)',
          ),
          `${scaling.requestMillicores}m`,
        ],
        [
          L(lang, 'HPA target: average utilization of the request', 'Objetivo del HPA: utilización media del request'),
          `${scaling.targetPercent} % = ${fmt((scaling.requestMillicores * scaling.targetPercent) / 100)}m`,
        ],
        [L(lang, 'replicas', 'réplicas'), `${scaling.minReplicas}–${scaling.maxReplicas}`],
        [
          fanoutAt
            ? L(
                lang,
                `API CPU per 1,000 tweets, open loop at ${fmt(fanoutAt)}/s (fan-out, median of ${n})`,
                `CPU de la API por 1,000 tweets, lazo abierto a ${fmt(fanoutAt)}/s (fan-out, mediana de ${n})`,
              )
            : '—',
          `${fmt(apiCpu, 3)} s`,
        ],
        ...(seedMillicores !== null
          ? [
              [
                L(
                  lang,
                  `API CPU at the assignment's load (median ${fmt(seedThroughput)} tweets/s × median ${fmt(seedApi, 3)} s per 1,000)`,
                  `CPU de la API con la carga del enunciado (mediana ${fmt(seedThroughput)} tweets/s × mediana ${fmt(seedApi, 3)} s por 1,000)`,
                ),
                `${fmt(seedMillicores)}m = ${fmt((100 * seedMillicores) / scaling.requestMillicores)} % ${L(lang, 'of the request', 'del request')}`,
              ],
            ]
          : []),
      ],
    ),
    '',
    olSource,
  ].join('\n');
}

const caseName = (lang: Lang, c: string, short: boolean) =>
  c === 'alone'
    ? L(lang, 'alone', 'solo')
    : c === 'replica'
      ? L(lang, 'with a replica', 'con réplica')
      : short
        ? L(lang, 'replica + WAIT 1', 'réplica + WAIT 1')
        : L(lang, 'with a replica and WAIT 1', 'con réplica y WAIT 1');

interface Bar {
  label: string;
  value: number;
  text: string;
}

/** Horizontal bars in panels side by side, each panel on its own scale (its values printed). */
export function panels(title: string, ps: { title: string; bars: Bar[] }[]): string {
  const pw = 300;
  const labelW = 170;
  const barH = 20;
  const gap = 6;
  const n = Math.max(...ps.map((p) => p.bars.length));
  const W = labelW + ps.length * pw + 20;
  const H = 60 + n * (barH + gap) + 10;
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#17becf'];
  const out = [...svgHead(W, H), `<text x="10" y="20" font-size="14">${esc(title)}</text>`];
  ps[0]?.bars.forEach((b, i) =>
    out.push(`<text x="${labelW - 8}" y="${60 + i * (barH + gap) + 14}" text-anchor="end">${esc(b.label)}</text>`),
  );
  ps.forEach((p, j) => {
    const x0 = labelW + j * pw;
    const max = Math.max(1e-9, ...p.bars.map((b) => b.value));
    out.push(`<text x="${x0}" y="44" font-weight="bold">${esc(p.title)}</text>`);
    out.push(`<line x1="${x0}" y1="50" x2="${x0}" y2="${H - 10}" stroke="#333"/>`);
    p.bars.forEach((b, i) => {
      const w = Math.max(0, (b.value / max) * (pw - 90));
      const y = 60 + i * (barH + gap);
      out.push(`<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colors[i % colors.length]}"/>`);
      out.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + 14}">${esc(b.text)}</text>`);
    });
  });
  out.push('</svg>');
  return out.join('\n');
}

/** A chart per comparison, in one language: each bar the median of the runs. */
export function charts(run: ReportRun, lang: Lang): Record<string, string> {
  const rs = run.openLoops;
  const suffix = ` — ${run.manifest.commit}, ${run.manifest.date.slice(0, 10)}, ${L(lang, `median of ${rs.length}`, `mediana de ${rs.length}`)}`;
  const bar = (label: string, v: number | null, digits: number) => ({ label, value: v ?? 0, text: fmt(v, digits) });
  const openLoop = (name: keyof typeof COMPARISONS) => {
    const { title, rows } = COMPARISONS[name];
    const at = rateOf(rs, rows);
    const per = (f: (s: ScenarioResult) => number | null | undefined, digits: number) =>
      rows.map(([k, l]) => bar(nameOf(lang, l ?? k), median(rs.map((r) => f(r[k]))), digits));
    return panels(L(lang, ...title) + suffix, [
      {
        title: at ? L(lang, `CPU s per 1,000 tweets at ${fmt(at)}/s`, `CPU s por 1,000 tweets a ${fmt(at)}/s`) : '—',
        bars: per((s) => (at ? cpuAt(s, at) : null), 3),
      },
      {
        title: L(lang, 'max rate (tweets/s)', 'tasa máxima (tweets/s)'),
        bars: rows.map(([k, l]) => {
          const ss = rs.map((r) => r[k]);
          return { label: nameOf(lang, l ?? k), value: median(ss.map((s) => s.maxRate)) ?? 0, text: maxRateCell(ss).split(' (')[0]! };
        }),
      },
      { title: L(lang, 'p99 ms at max rate', 'p99 ms en la tasa máxima'), bars: per((s) => s.p99Ms, 1) },
    ]);
  };
  const t = alike(run.transports, (x) => x.transport);
  const v = alike(run.valkeyReplicas, (x) => x.case);
  const perSize = <R extends { batchSize: number; tweetsPerSec: number }>(groups: R[][], label: (r: R) => string) =>
    [...new Set(groups.map((g) => g[0]!.batchSize))].map((b) => ({
      title: L(lang, `batches of ${b}`, `lotes de ${b}`),
      bars: groups.filter((g) => g[0]!.batchSize === b).map((g) => bar(label(g[0]!), median(g.map((x) => x.tweetsPerSec)), 0)),
    }));
  return {
    brokers: openLoop('brokers'),
    writers: openLoop('writers'),
    apis: openLoop('apis'),
    transport: panels(
      L(lang, 'REST against gRPC: tweets/s between two processes', 'REST contra gRPC: tweets/s entre dos procesos') + suffix,
      perSize(t, (x) => x.transport),
    ),
    replica: panels(
      L(lang, 'Valkey without and with a replica: tweets/s applied', 'Valkey sin y con réplica: tweets/s aplicados') + suffix,
      perSize(v, (x) => caseName(lang, x.case, true)),
    ),
  };
}

/** Replaces each marked section of `doc`; every section must be marked exactly once, and every marker must be known. */
export function fill(doc: string, parts: Record<string, string>): string {
  const seen = new Set<string>();
  const out = doc.replace(/<!-- report:([a-z]+) -->\n[\s\S]*?<!-- \/report:\1 -->/g, (_, name: string) => {
    if (!(name in parts)) throw new Error(`unknown report section ${name}`);
    if (seen.has(name)) throw new Error(`report section ${name} is marked twice`);
    seen.add(name);
    return `<!-- report:${name} -->\n${parts[name]}\n<!-- /report:${name} -->`;
  });
  const missing = Object.keys(parts).filter((k) => !seen.has(k));
  if (missing.length) throw new Error(`report sections not marked: ${missing.join(', ')}`);
  return out;
}

/**
 * Rewrites the report's tables (docs/report.md, docs/report.es.md) and its charts (docs/report/*.svg)
 * from the newest report run. A quick run's figures are checked against the documents but not written.
 */
export function renderReport(o: { results: string; docs: string; root: string; quick: boolean }): string[] {
  const run = latestRun(o.results, o.quick);
  const cluster = latestCluster(o.results);
  const scaling = apiScaling(readFileSync(join(o.root, 'deploy', 'k8s', 'base', 'ingest-api.yaml'), 'utf8'));
  const written: string[] = [];
  const figures = join(o.docs, 'report');
  if (!o.quick) mkdirSync(figures, { recursive: true });
  for (const lang of ['en', 'es'] as const) {
    const file = join(o.docs, lang === 'en' ? 'report.md' : 'report.es.md');
    if (!existsSync(file)) throw new Error(`${file} does not exist`);
    const doc = fill(readFileSync(file, 'utf8'), { ...sections(run, scaling, lang), ...clusterSections(cluster, lang) });
    if (o.quick) continue;
    writeFileSync(file, doc);
    written.push(file);
    for (const [name, body] of Object.entries({
      ...charts(run, lang),
      ...clusterCharts(cluster, lang),
      architecture: architectureSvg(lang),
    })) {
      const f = join(figures, svgFile(lang, name));
      writeFileSync(f, body);
      written.push(f);
    }
  }
  return written;
}
