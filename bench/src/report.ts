import type { Floors } from './floors.js';
import type { StepResult } from './openloop.js';
import { seedLoadMarkdown, type SeedLoads } from './seedload.js';
import { svgHead } from './markdown.js';

export interface ProcessCost {
  cpuSecPer1000: number;
  peakRssMb: number;
}

export interface ScenarioResult {
  name: string;
  description: string;
  maxRate: number;
  /** Latency at the highest passing step. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Each step; CPU seconds per 1,000 tweets per process over the step (absent in files before the report's runs). */
  steps: (StepResult & { passed: boolean; reason: string; countedWithinMs: number | null; cpuSecPer1000?: Record<string, number> })[];
  /** CPU seconds per 1,000 tweets and peak RSS of each process, at the highest passing step. */
  processes: Record<string, ProcessCost>;
  /** Peak RSS of each process over every step of the scenario, passing or not. */
  peakRssMb: Record<string, number>;
}

export interface Ceiling {
  /** CPU µs a tweet needs at least, summed over the components a scenario uses. */
  usPerTweet: { fanout: number; kafkaOnly: number; rabbitmqOnly: number };
  /** The rate at which those floors would use every core: no implementation could sustain more here. */
  fanout: number;
  kafkaOnly: number;
  rabbitmqOnly: number;
}

export interface BenchResults {
  date: string;
  commit: string;
  quick: boolean;
  machine: { cores: number; cpuModel: string; memoryGiB: number; node: string };
  criteria: { stepSeconds: number; rampSeconds: number; p99MaxMs: number; drainMaxMs: number };
  bare: ScenarioResult;
  naive: ScenarioResult;
  fanout: ScenarioResult & { ratioToBare: number; ratioToNaive: number; ratioToCeiling: number; p99At5000Ms: number | null };
  /** The fan-out with two writer processes per broker (the seed's 1 against 2 writers). */
  fanoutWriters2: ScenarioResult;
  /** The fan-out behind NGINX with one, two and three API processes (the seed's ingress and the API's HPA range). */
  fanoutApis1: ScenarioResult;
  fanoutApis2: ScenarioResult;
  fanoutApis3: ScenarioResult;
  kafkaOnly: ScenarioResult;
  rabbitmqOnly: ScenarioResult;
  /** The RabbitMQ path with a classic queue instead of the quorum queue. */
  rabbitmqOnlyClassic: ScenarioResult;
  /** Each component's own CPU per tweet, measured at the fan-out's top rate. */
  floors: (Floors & { http: { bare: number; loadgen: number } }) | null;
  ceiling: Ceiling | null;
  /** The largest RSS any Node.js service reached in any pipeline scenario. */
  nodeServicePeakRssMb: number;
  /** The seed's load (closed loop, fan-out): its headline figures. */
  seedLoad: { clients: number; tweets: number; throughput: number; p50Ms: number; p99Ms: number } | null;
  /** The seed's load in full: one tweet at a time, the seed's load hop by hop, and the bare endpoint under it. */
  seedLoads: SeedLoads | null;
  /** The issue's targets, each with the value this run measured and whether it meets it. */
  targets: Target[];
}

export interface Target {
  name: string;
  /** What it must be, as `>= 10000` or `< 250`. */
  want: string;
  value: number | null;
  met: boolean;
}

/** The targets on two cores with everything local: throughput, share of the bare endpoint, latency at 5,000/s, gain over naive, memory. */
export function judgeTargets(r: Pick<BenchResults, 'fanout' | 'nodeServicePeakRssMb' | 'seedLoad' | 'seedLoads'>): Target[] {
  const t = (name: string, value: number | null, op: '>=' | '<=' | '<', bound: number): Target => ({
    name,
    want: `${op} ${bound}`,
    value,
    met: value !== null && (op === '>=' ? value >= bound : op === '<=' ? value <= bound : value < bound),
  });
  return [
    t('fanout.maxRate', r.fanout.maxRate, '>=', 10_000),
    t('fanout.ratioToBare', r.fanout.ratioToBare, '>=', 0.35),
    t('fanout.p99At5000Ms', r.fanout.p99At5000Ms, '<=', 50),
    t('fanout.ratioToNaive', r.fanout.ratioToNaive, '>=', 5),
    t('nodeServicePeakRssMb', r.nodeServicePeakRssMb, '<', 250),
    t('idle.p50Ms', r.seedLoads?.idle.p50Ms ?? null, '<=', 4),
    t('seedLoad.throughput', r.seedLoad?.throughput ?? null, '>=', 2500),
    t('seedLoad.p99Ms', r.seedLoad?.p99Ms ?? null, '<=', 20),
  ];
}

/**
 * The ceiling from the floors: every tweet costs at least the HTTP edge (the
 * bare endpoint and the load generator) and, per path, its broker and one
 * Valkey apply. Spread over every core, that is the most any implementation
 * could sustain on this machine, were its own services free.
 */
export function ceilingOf(f: NonNullable<BenchResults['floors']>, cores: number): Ceiling {
  const edge = f.http.bare + f.http.loadgen;
  const us = {
    fanout: edge + f.us.kafka + f.us.rabbitmq + 2 * f.us.valkey,
    kafkaOnly: edge + f.us.kafka + f.us.valkey,
    rabbitmqOnly: edge + f.us.rabbitmq + f.us.valkey,
  };
  const each = (per: (us: number) => number) => ({
    fanout: per(us.fanout),
    kafkaOnly: per(us.kafkaOnly),
    rabbitmqOnly: per(us.rabbitmqOnly),
  });
  // µs per tweet to a tenth; the rate those use every core at, rounded down to tens
  return { usPerTweet: each((x) => Math.round(x * 10) / 10), ...each((x) => Math.floor((cores * 1e6) / x / 10) * 10) };
}

/** The pipelines of `npm run bench`, and the bare endpoint they are set against. */
export const SCENARIOS = [
  'bare',
  'fanout',
  'fanoutWriters2',
  'fanoutApis1',
  'fanoutApis2',
  'fanoutApis3',
  'kafkaOnly',
  'rabbitmqOnly',
  'rabbitmqOnlyClassic',
  'naive',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** The pipeline scenarios: every scenario but the bare endpoint. */
export const PIPELINES = SCENARIOS.filter((k) => k !== 'bare');
/** The tables' rows: the bare endpoint and the naive pipeline first, the floor and the baseline. */
const KEYS: readonly ScenarioName[] = ['bare', 'naive', ...PIPELINES.filter((k) => k !== 'naive')];

export function markdown(r: BenchResults): string {
  const c = r.ceiling;
  const ceilingOfKey = (k: ScenarioName) =>
    c && (k === 'fanout' || k === 'kafkaOnly' || k === 'rabbitmqOnly') ? c[k] : c && k.startsWith('fanout') ? c.fanout : null;
  const rows = KEYS.map((k) => {
    const s = r[k];
    const ceil = ceilingOfKey(k);
    return `| ${k} | ${s.description} | ${s.maxRate} | ${s.p50Ms ?? '—'} | ${s.p99Ms ?? '—'} | ${ceil ? `${ceil} (${Math.round((100 * s.maxRate) / ceil)}%)` : '—'} |`;
  });
  const procs = new Set<string>();
  for (const k of PIPELINES) for (const p of Object.keys(r[k].processes)) procs.add(p);
  const costRows = [...procs].map(
    (p) =>
      `| ${p} | ${PIPELINES.map((k) => {
        const cost = r[k].processes[p];
        return cost ? `${cost.cpuSecPer1000.toFixed(3)} / ${Math.round(r[k].peakRssMb[p] ?? cost.peakRssMb)}` : '—';
      }).join(' | ')} |`,
  );
  const total = (k: ScenarioName) => Object.values(r[k].processes).reduce((a, b) => a + b.cpuSecPer1000, 0);
  const f = r.floors;
  return [
    `# Benchmark ${r.date} (${r.commit})${r.quick ? ' — quick' : ''}`,
    '',
    `Machine: ${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; everything local.`,
    `A rate passes when, over ${r.criteria.stepSeconds} s of open-loop load (after ${r.criteria.rampSeconds} s at the same rate, not in the latency figures),`,
    `every tweet is accepted, p99 ≤ ${r.criteria.p99MaxMs} ms (measured from the intended send time), and every path counts every`,
    `tweet within ${r.criteria.drainMaxMs / 1000} s after the load ends.`,
    '',
    '| scenario | what | max rate (tweets/s) | p50 ms | p99 ms | ceiling (share reached) |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Fan-out / bare: ${r.fanout.ratioToBare}. Fan-out / naive: ${r.fanout.ratioToNaive}×. Fan-out / ceiling: ${r.fanout.ratioToCeiling}.` +
      ` Fan-out p99 at 5,000/s: ${r.fanout.p99At5000Ms ?? '—'} ms. Largest RSS of a Node.js service: ${r.nodeServicePeakRssMb} MB.`,
    '',
    `Targets: ${r.targets.map((t) => `${t.name} ${t.want}: ${t.value ?? '—'} (${t.met ? 'met' : 'not met'})`).join('; ')}.`,
    '',
    ...(f && c
      ? [
          `Floors, CPU µs per tweet at ${f.rate}/s (batches of ${f.batch}), each component alone${(f.repeats ?? 1) > 1 ? ` (lowest of ${f.repeats} measurements)` : ''}: HTTP edge ${f.http.bare} (bare endpoint)`,
          `+ ${f.http.loadgen} (load generator), RabbitMQ ${f.us.rabbitmq}, Kafka ${f.us.kafka}, Valkey ${f.us.valkey} per path.`,
          `A fan-out tweet needs at least ${c.usPerTweet.fanout} µs: ${r.machine.cores} cores sustain at most ${c.fanout}/s, were our services free.`,
          '',
        ]
      : []),
    ...(r.seedLoads
      ? [
          `The seed's load, closed loop on the fan-out stack (one tweet at a time, then ${r.seedLoads.seed.clients} clients): mean time per call at each hop.`,
          '',
          seedLoadMarkdown(r.seedLoads),
          '',
        ]
      : []),
    "CPU seconds per 1,000 tweets at each scenario's highest passing rate / peak RSS MB over the scenario:",
    '',
    `| process | ${PIPELINES.join(' | ')} |`,
    `| --- | ${PIPELINES.map(() => '---:').join(' | ')} |`,
    ...costRows,
    `| all | ${PIPELINES.map((k) => total(k).toFixed(3)).join(' | ')} |`,
    '',
  ].join('\n');
}

/** Rate against p50 and p99 for each scenario, log-scale latency. */
export function svg(r: BenchResults): string {
  const W = 760;
  const H = 420;
  const m = { l: 60, r: 160, t: 30, b: 50 };
  const series = KEYS.map((k) => ({ k, steps: r[k].steps.filter((s) => Number.isFinite(s.p99Ms)) }));
  const maxRate = Math.max(1, ...series.flatMap((s) => s.steps.map((x) => x.rate)));
  const lat = series.flatMap((s) => s.steps.flatMap((x) => [x.p50Ms, x.p99Ms])).filter((x) => x > 0 && Number.isFinite(x));
  const lo = Math.max(0.1, Math.min(1, ...lat));
  const hi = Math.max(100, ...lat);
  const x = (v: number) => m.l + (v / maxRate) * (W - m.l - m.r);
  const y = (v: number) => m.t + (1 - (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - m.t - m.b);
  const colors: Record<string, string> = {
    bare: '#888',
    naive: '#d62728',
    fanout: '#1f77b4',
    fanoutWriters2: '#9467bd',
    fanoutApis1: '#8c564b',
    fanoutApis2: '#e377c2',
    fanoutApis3: '#17becf',
    kafkaOnly: '#2ca02c',
    rabbitmqOnly: '#ff7f0e',
  };
  const parts: string[] = [
    ...svgHead(W, H),
    `<text x="${m.l}" y="18" font-size="14">Latency against offered rate (solid p99, dashed p50), ${r.date} ${r.commit}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    `<text x="${(W - m.r + m.l) / 2}" y="${H - 12}" text-anchor="middle">offered rate (tweets/s)</text>`,
    `<text x="16" y="${(H - m.b + m.t) / 2}" transform="rotate(-90 16 ${(H - m.b + m.t) / 2})" text-anchor="middle">latency (ms, log)</text>`,
  ];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    const v = 10 ** e;
    if (v < lo || v > hi) continue;
    parts.push(
      `<line x1="${m.l}" y1="${y(v)}" x2="${W - m.r}" y2="${y(v)}" stroke="#eee"/><text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const v = Math.round((maxRate * i) / 4);
    parts.push(`<text x="${x(v)}" y="${H - m.b + 16}" text-anchor="middle">${v}</text>`);
  }
  parts.push(`<line x1="${m.l}" y1="${y(100)}" x2="${W - m.r}" y2="${y(100)}" stroke="#999" stroke-dasharray="2 4"/>`);
  series.forEach(({ k, steps }, i) => {
    if (steps.length === 0) return;
    const pts = (f: (s: StepResult) => number) => steps.map((s) => `${x(s.rate).toFixed(1)},${y(f(s)).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${colors[k]}" stroke-width="2" points="${pts((s) => s.p99Ms)}"/>`);
    parts.push(`<polyline fill="none" stroke="${colors[k]}" stroke-width="1.5" stroke-dasharray="5 3" points="${pts((s) => s.p50Ms)}"/>`);
    parts.push(`<text x="${W - m.r + 10}" y="${m.t + 16 + i * 18}" fill="${colors[k]}">${k}: max ${r[k].maxRate}/s</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
