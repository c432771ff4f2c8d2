/**
 * The technical report's measured parts (docs/report.md, docs/report.es.md):
 * its tables and charts are rendered from one `npm run bench -- --report` run,
 * whose manifest (bench/results/<time>-<commit>-report.json) names the result
 * files of that run. The prose around them stays as written; each table sits
 * between `<!-- report:name -->` and `<!-- /report:name -->`.
 */
import { architectureSvg } from './architecture.js';
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

export type Lang = 'en' | 'es';

export interface Manifest {
  date: string;
  commit: string;
  quick: boolean;
  machine: { cores: number; cpuModel: string; node: string };
  durationSec: number;
  files: { openLoop: string; transport: string; valkeyReplica: string };
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
  openLoop: BenchResults;
  transport: Measured<TransportResult>;
  valkeyReplica: Measured<ReplicaResult>;
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
  return {
    file,
    manifest,
    openLoop: read(manifest.files.openLoop),
    transport: read(manifest.files.transport),
    valkeyReplica: read(manifest.files.valkeyReplica),
  };
}

/** Numbers in both languages as Guatemala writes them, like English: 10,000 and 2.19. */
const fmt = (_lang: Lang, v: number | null | undefined, digits = 0) =>
  v === null || v === undefined || !Number.isFinite(v)
    ? '—'
    : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: 'always' });

/** CPU seconds per 1,000 tweets of the named processes (all when none named) at a step's rate, or at the scenario's top rate. */
function cpuAt(s: ScenarioResult, rate: number | 'max', only?: (process: string) => boolean): number | null {
  const costs =
    rate === 'max'
      ? Object.fromEntries(Object.entries(s.processes).map(([n, c]) => [n, c.cpuSecPer1000]))
      : s.steps.find((x) => x.rate === rate)?.cpuSecPer1000;
  const picked = Object.entries(costs ?? {}).filter(([n]) => (only ? only(n) : true));
  return picked.length ? picked.reduce((a, [, v]) => a + v, 0) : null;
}

const stepAt = (s: ScenarioResult, rate: number) => s.steps.find((x) => x.rate === rate && x.passed);

/** The rate every scenario of a comparison passed, for figures taken at the same load: the highest common one up to 5,000/s. */
function commonRate(ss: readonly ScenarioResult[]): number | null {
  const rates = ss[0]?.steps.filter((x) => x.passed && x.rate <= 5000).map((x) => x.rate) ?? [];
  return rates.filter((r) => ss.every((s) => stepAt(s, r))).at(-1) ?? null;
}

const L = (lang: Lang, en: string, es: string) => (lang === 'en' ? en : es);

function table(head: string[], rows: string[][], numericFrom = 1): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i >= numericFrom ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const NAMES: Record<ReportScenario, [string, string]> = {
  fanout: ['both brokers (fan-out)', 'ambos brokers (fan-out)'],
  kafkaOnly: ['Kafka only', 'solo Kafka'],
  rabbitmqOnly: ['RabbitMQ only', 'solo RabbitMQ'],
  fanoutWriters2: ['two writers per broker', 'dos writers por broker'],
  fanoutApis1: ['NGINX + 1 API', 'NGINX + 1 API'],
  fanoutApis2: ['NGINX + 2 APIs', 'NGINX + 2 APIs'],
  fanoutApis3: ['NGINX + 3 APIs', 'NGINX + 3 APIs'],
};
const nameOf = (lang: Lang, k: ReportScenario | 'direct' | 'writers1') =>
  k === 'direct'
    ? L(lang, 'API direct (no NGINX)', 'API directa (sin NGINX)')
    : k === 'writers1'
      ? L(lang, 'one writer per broker', 'un writer por broker')
      : NAMES[k][lang === 'en' ? 0 : 1];

const link = (f: string) => `[${f}](../bench/results/${f})`;
const chart = (lang: Lang, name: string, alt: string) => `![${alt}](report/${name}${lang === 'es' ? '.es' : ''}.svg)`;

/** An open-loop comparison: top rate and latency there, latency and CPU per 1,000 tweets at one rate all passed. */
function openLoopTable(
  lang: Lang,
  r: BenchResults,
  rows: [ReportScenario, (ReportScenario | 'direct' | 'writers1')?][],
  extra: { head: [string, string]; at: (s: ScenarioResult, rate: number | null) => string }[],
): string {
  const ss = rows.map(([k]) => r[k]);
  const at = commonRate(ss);
  const head = [
    L(lang, 'scenario', 'escenario'),
    L(lang, 'max rate (tweets/s)', 'tasa máxima (tweets/s)'),
    L(lang, 'p50 / p99 ms at max', 'p50 / p99 ms en la máxima'),
    L(lang, 'CPU s per 1,000 at max', 'CPU s por 1,000 en la máxima'),
    at ? L(lang, `p50 / p99 ms at ${fmt(lang, at)}/s`, `p50 / p99 ms a ${fmt(lang, at)}/s`) : '—',
    at ? L(lang, `CPU s per 1,000 at ${fmt(lang, at)}/s`, `CPU s por 1,000 a ${fmt(lang, at)}/s`) : '—',
    ...extra.map((e) => L(lang, ...e.head)),
  ];
  const body = rows.map(([k, label]) => {
    const s = r[k];
    const st = at ? stepAt(s, at) : undefined;
    return [
      nameOf(lang, label ?? k),
      fmt(lang, s.maxRate),
      `${fmt(lang, s.p50Ms, 1)} / ${fmt(lang, s.p99Ms, 1)}`,
      fmt(lang, cpuAt(s, 'max'), 3),
      st ? `${fmt(lang, st.p50Ms, 1)} / ${fmt(lang, st.p99Ms, 1)}` : '—',
      fmt(lang, at ? cpuAt(s, at) : null, 3),
      ...extra.map((e) => e.at(s, at)),
    ];
  });
  return table(head, body);
}

const BROKER = (n: string) => n === 'kafka' || n === 'rabbitmq';
const isApi = (n: string) => /^ingest-api(-\d)?$/.test(n);

/** Every measured section of the report, keyed by its marker name, in one language. */
export function sections(run: ReportRun, scaling: ApiScaling, lang: Lang): Record<string, string> {
  const { manifest: m, openLoop: r } = run;
  const minutes = Math.round(m.durationSec / 60);
  const started = new Date(Date.parse(m.date) - m.durationSec * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const source = (f: string, commit: string) => L(lang, `Source: ${link(f)} (commit ${commit}).`, `Fuente: ${link(f)} (commit ${commit}).`);
  const olSource = source(m.files.openLoop, r.commit);
  const fanout = r.fanout;
  const apiCpuAt = (() => {
    const at = commonRate([fanout]);
    return { rate: at, cpu: at ? cpuAt(fanout, at, isApi) : null };
  })();
  const seed = r.seedLoads?.seed;
  const seedApi = seed ? (seed.cpuSecPer1000['ingest-api'] ?? null) : null;
  const seedMillicores = seed && seedApi !== null ? seed.throughput * seedApi : null;
  // the columns the transport and replica tables share: what was sent, how fast, how long it took
  const perBatchHead = [L(lang, 'tweets per batch', 'tweets por lote'), 'tweets/s', 'p50 ms', 'p99 ms'];
  const perBatchCells = (x: { batchSize: number; tweetsPerSec: number; p50Ms: number; p99Ms: number }) => [
    fmt(lang, x.batchSize),
    fmt(lang, x.tweetsPerSec),
    fmt(lang, x.p50Ms, 2),
    fmt(lang, x.p99Ms, 2),
  ];
  // a measured section: its chart, its table, where the figures come from
  const figure = (name: string, alt: [string, string], body: string, footer: string) =>
    [chart(lang, name, L(lang, ...alt)), '', body, '', footer].join('\n');
  const cpuCell = (only: (n: string) => boolean) => (s: ScenarioResult, at: number | null) => fmt(lang, at ? cpuAt(s, at, only) : null, 3);
  return {
    run: [
      L(
        lang,
        `Measured by \`npm run bench -- --report\` on commit ${m.commit}, started ${started} UTC, on ${m.machine.cores} cores (${m.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node.js ${m.machine.node}; the whole run took ${minutes} minutes. Files: ${link(run.file)} (the run), ${link(m.files.openLoop)} (open-loop scenarios, with [its step-by-step table](../bench/results/${m.files.openLoop.replace(/\.json$/, '.md')})), ${link(m.files.transport)}, ${link(m.files.valkeyReplica)}.`,
        `Medido con \`npm run bench -- --report\` en el commit ${m.commit}, iniciado el ${started} UTC, en ${m.machine.cores} núcleos (${m.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node.js ${m.machine.node}; la ejecución completa tardó ${minutes} minutos. Archivos: ${link(run.file)} (la ejecución), ${link(m.files.openLoop)} (escenarios de lazo abierto, con [su tabla paso a paso](../bench/results/${m.files.openLoop.replace(/\.json$/, '.md')})), ${link(m.files.transport)}, ${link(m.files.valkeyReplica)}.`,
      ),
      ...(m.quick ? ['', L(lang, '**Quick run: figures are not comparable.**', '**Ejecución rápida: cifras no comparables.**')] : []),
    ].join('\n'),
    seedload: seed
      ? [
          table(
            [L(lang, 'load', 'carga'), 'tweets/s', 'p50 ms', 'p99 ms'],
            [
              [L(lang, 'one tweet at a time', 'un tweet a la vez'), r.seedLoads!.idle],
              [
                L(
                  lang,
                  `${seed.clients} clients, ${fmt(lang, seed.tweets)} tweets (the seed's load)`,
                  `${seed.clients} clientes, ${fmt(lang, seed.tweets)} tweets (la carga del enunciado)`,
                ),
                seed,
              ],
            ].map(([label, x]) => {
              const s = x as typeof seed;
              return [label as string, fmt(lang, s.throughput), fmt(lang, s.p50Ms, 2), fmt(lang, s.p99Ms, 2)];
            }),
          ),
          '',
          olSource,
        ].join('\n')
      : L(lang, '(the seed load was not run)', '(la carga del enunciado no se ejecutó)'),
    brokers: figure(
      'brokers',
      ['Kafka only, RabbitMQ only and both', 'Solo Kafka, solo RabbitMQ y ambos'],
      openLoopTable(
        lang,
        r,
        [['kafkaOnly'], ['rabbitmqOnly'], ['fanout']],
        [
          { head: ['broker CPU s per 1,000', 'CPU del broker s por 1,000'], at: cpuCell(BROKER) },
          { head: ['writer CPU s per 1,000', 'CPU del writer s por 1,000'], at: cpuCell((n) => n.startsWith('writer-')) },
          { head: ['consumer CPU s per 1,000', 'CPU del consumidor s por 1,000'], at: cpuCell((n) => n.endsWith('-consumer')) },
        ],
      ),
      olSource,
    ),
    loads: (() => {
      const k = r.kafkaOnly;
      const q = r.rabbitmqOnly;
      const rates = [...new Set([...k.steps, ...q.steps].map((x) => x.rate))].sort((a, b) => a - b);
      const cell = (s: ScenarioResult, rate: number) => {
        const st = s.steps.find((x) => x.rate === rate);
        if (!st) return ['—', '—'];
        const verdict = st.passed ? '' : L(lang, ' (fails)', ' (falla)');
        return [`${fmt(lang, st.p50Ms, 1)} / ${fmt(lang, st.p99Ms, 1)}${verdict}`, fmt(lang, cpuAt(s, rate), 3)];
      };
      return [
        table(
          [
            L(lang, 'offered rate (tweets/s)', 'tasa ofrecida (tweets/s)'),
            L(lang, 'Kafka only: p50 / p99 ms', 'solo Kafka: p50 / p99 ms'),
            L(lang, 'CPU s per 1,000', 'CPU s por 1,000'),
            L(lang, 'RabbitMQ only: p50 / p99 ms', 'solo RabbitMQ: p50 / p99 ms'),
            L(lang, 'CPU s per 1,000', 'CPU s por 1,000'),
          ],
          rates.map((rate) => [fmt(lang, rate), ...cell(k, rate), ...cell(q, rate)]),
        ),
        '',
        olSource,
      ].join('\n');
    })(),
    writers: figure(
      'writers',
      ['One against two writers per broker', 'Uno contra dos writers por broker'],
      openLoopTable(
        lang,
        r,
        [['fanout', 'writers1'], ['fanoutWriters2']],
        [
          { head: ['brokers CPU s per 1,000', 'CPU de los brokers s por 1,000'], at: cpuCell(BROKER) },
          { head: ['writers CPU s per 1,000', 'CPU de los writers s por 1,000'], at: cpuCell((n) => n.startsWith('writer-')) },
        ],
      ),
      olSource,
    ),
    apis: figure(
      'apis',
      ['NGINX in front of one to three APIs', 'NGINX delante de una a tres APIs'],
      openLoopTable(
        lang,
        r,
        [['fanout', 'direct'], ['fanoutApis1'], ['fanoutApis2'], ['fanoutApis3']],
        [
          { head: ['NGINX CPU s per 1,000', 'CPU de NGINX s por 1,000'], at: cpuCell((n) => n === 'nginx') },
          { head: ['APIs CPU s per 1,000', 'CPU de las APIs s por 1,000'], at: cpuCell(isApi) },
        ],
      ),
      olSource,
    ),
    transport: figure(
      'transport',
      ['REST against gRPC', 'REST contra gRPC'],
      table(
        [
          L(lang, 'transport', 'transporte'),
          ...perBatchHead,
          L(lang, 'client CPU µs/tweet', 'CPU cliente µs/tweet'),
          L(lang, 'server CPU µs/tweet', 'CPU servidor µs/tweet'),
        ],
        run.transport.results.map((t) => [
          t.transport,
          ...perBatchCells(t),
          fmt(lang, t.clientUsPerTweet, 1),
          fmt(lang, t.serverUsPerTweet, 1),
        ]),
        1,
      ),
      L(
        lang,
        `${run.transport.results[0]?.inFlight ?? 0} batches in flight.`,
        `${run.transport.results[0]?.inFlight ?? 0} lotes en vuelo.`,
      ) +
        ' ' +
        source(m.files.transport, run.transport.commit),
    ),
    replica: figure(
      'replica',
      ['Valkey without and with a replica', 'Valkey sin y con réplica'],
      table(
        [
          L(lang, 'case', 'caso'),
          ...perBatchHead,
          L(lang, 'primary CPU µs/tweet', 'CPU primario µs/tweet'),
          L(lang, 'replica CPU µs/tweet', 'CPU réplica µs/tweet'),
          L(lang, 'replica caught up (ms)', 'réplica al día (ms)'),
        ],
        run.valkeyReplica.results.map((v) => [
          v.case === 'alone'
            ? L(lang, 'alone', 'solo')
            : v.case === 'replica'
              ? L(lang, 'with a replica', 'con réplica')
              : L(lang, 'with a replica and WAIT 1', 'con réplica y WAIT 1'),
          ...perBatchCells(v),
          fmt(lang, v.primaryUsPerTweet, 1),
          v.case === 'alone' ? '—' : fmt(lang, v.replicaUsPerTweet, 1),
          fmt(lang, v.replicaCatchUpMs, 0),
        ]),
        1,
      ),
      L(
        lang,
        `${run.valkeyReplica.results[0]?.inFlight ?? 0} batches at a time, AOF with appendfsync always.`,
        `${run.valkeyReplica.results[0]?.inFlight ?? 0} lotes a la vez, AOF con appendfsync always.`,
      ) +
        ' ' +
        source(m.files.valkeyReplica, run.valkeyReplica.commit),
    ),
    hpa: [
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
            `${scaling.targetPercent} % = ${fmt(lang, (scaling.requestMillicores * scaling.targetPercent) / 100)}m`,
          ],
          [L(lang, 'replicas', 'réplicas'), `${scaling.minReplicas}–${scaling.maxReplicas}`],
          [
            apiCpuAt.rate
              ? L(
                  lang,
                  `API CPU per 1,000 tweets, open loop at ${fmt(lang, apiCpuAt.rate)}/s (fan-out)`,
                  `CPU de la API por 1,000 tweets, lazo abierto a ${fmt(lang, apiCpuAt.rate)}/s (fan-out)`,
                )
              : '—',
            `${fmt(lang, apiCpuAt.cpu, 3)} s`,
          ],
          ...(seed && seedMillicores !== null
            ? [
                [
                  L(
                    lang,
                    `API CPU at the seed's load (${fmt(lang, seed.throughput)} tweets/s, ${fmt(lang, seedApi, 3)} s per 1,000)`,
                    `CPU de la API con la carga del enunciado (${fmt(lang, seed.throughput)} tweets/s, ${fmt(lang, seedApi, 3)} s por 1,000)`,
                  ),
                  L(
                    lang,
                    `${fmt(lang, seedMillicores)}m = ${fmt(lang, (100 * seedMillicores) / scaling.requestMillicores)} % of the request`,
                    `${fmt(lang, seedMillicores)}m = ${fmt(lang, (100 * seedMillicores) / scaling.requestMillicores)} % del request`,
                  ),
                ],
              ]
            : []),
        ],
      ),
      '',
      olSource,
    ].join('\n'),
  };
}

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
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#17becf'];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="10" y="20" font-size="14">${esc(title)}</text>`,
  ];
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

/** A chart per comparison, in one language. */
export function charts(run: ReportRun, lang: Lang): Record<string, string> {
  const r = run.openLoop;
  const suffix = ` — ${run.manifest.commit}, ${run.manifest.date.slice(0, 10)}`;
  const openLoop = (title: string, rows: [ReportScenario, (ReportScenario | 'direct' | 'writers1')?][]) => {
    const at = commonRate(rows.map(([k]) => r[k]));
    return panels(title + suffix, [
      {
        title: L(lang, 'max rate (tweets/s)', 'tasa máxima (tweets/s)'),
        bars: rows.map(([k, l]) => ({ label: nameOf(lang, l ?? k), value: r[k].maxRate, text: fmt(lang, r[k].maxRate) })),
      },
      {
        title: L(lang, 'p99 ms at max rate', 'p99 ms en la tasa máxima'),
        bars: rows.map(([k, l]) => ({ label: nameOf(lang, l ?? k), value: r[k].p99Ms ?? 0, text: fmt(lang, r[k].p99Ms, 1) })),
      },
      {
        title: at ? L(lang, `CPU s per 1,000 tweets at ${fmt(lang, at)}/s`, `CPU s por 1,000 tweets a ${fmt(lang, at)}/s`) : '—',
        bars: rows.map(([k, l]) => {
          const c = at ? cpuAt(r[k], at) : null;
          return { label: nameOf(lang, l ?? k), value: c ?? 0, text: fmt(lang, c, 3) };
        }),
      },
    ]);
  };
  const sizes = (rs: readonly { batchSize: number }[]) => [...new Set(rs.map((x) => x.batchSize))];
  const t = run.transport.results;
  const v = run.valkeyReplica.results;
  const caseName = (c: string) =>
    c === 'alone'
      ? L(lang, 'alone', 'solo')
      : c === 'replica'
        ? L(lang, 'with a replica', 'con réplica')
        : L(lang, 'replica + WAIT 1', 'réplica + WAIT 1');
  return {
    brokers: openLoop(L(lang, 'Kafka only, RabbitMQ only and both', 'Solo Kafka, solo RabbitMQ y ambos'), [
      ['kafkaOnly'],
      ['rabbitmqOnly'],
      ['fanout'],
    ]),
    writers: openLoop(L(lang, 'One against two writers per broker', 'Uno contra dos writers por broker'), [
      ['fanout', 'writers1'],
      ['fanoutWriters2'],
    ]),
    apis: openLoop(L(lang, 'NGINX in front of one to three APIs', 'NGINX delante de una a tres APIs'), [
      ['fanout', 'direct'],
      ['fanoutApis1'],
      ['fanoutApis2'],
      ['fanoutApis3'],
    ]),
    transport: panels(
      L(lang, 'REST against gRPC: tweets/s between two processes', 'REST contra gRPC: tweets/s entre dos procesos') + suffix,
      sizes(t).map((b) => ({
        title: L(lang, `batches of ${b}`, `lotes de ${b}`),
        bars: t
          .filter((x) => x.batchSize === b)
          .map((x) => ({ label: x.transport, value: x.tweetsPerSec, text: fmt(lang, x.tweetsPerSec) })),
      })),
    ),
    replica: panels(
      L(lang, 'Valkey without and with a replica: tweets/s applied', 'Valkey sin y con réplica: tweets/s aplicados') + suffix,
      sizes(v).map((b) => ({
        title: L(lang, `batches of ${b}`, `lotes de ${b}`),
        bars: v
          .filter((x) => x.batchSize === b)
          .map((x) => ({ label: caseName(x.case), value: x.tweetsPerSec, text: fmt(lang, x.tweetsPerSec) })),
      })),
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
      const f = join(figures, `${name}${lang === 'es' ? '.es' : ''}.svg`);
      writeFileSync(f, body);
      written.push(f);
    }
  }
  return written;
}
