/**
 * The seed's own load, closed loop: a few clients, each sending its next
 * tweet when the last one is answered. Throughput is clients ÷ latency here,
 * so what matters is the time one tweet takes, hop by hop. Each hop's mean
 * comes from the histograms the services export (their `_sum` and `_count`
 * before and after the run), so the breakdown is what the services measured,
 * not a guess from the outside.
 */
import { cpus } from 'node:os';
import { weather, type BrokerPath } from '@tweets/domain';
import { fetchStats, percentile, runLoad, waitForCounts } from '@tweets/loadgen';
import { readState, type Route, type StackLayout } from '@tweets/stack';
import { measureFloors, type Floors } from './floors.js';
import { cpuOf, TreeSampler } from './sampler.js';

export interface Hop {
  /** Calls the hop made during the run (requests, batches or publishes). */
  calls: number;
  /** Their mean duration. */
  meanMs: number;
}

export interface SeedLoadResult extends ClosedLoopResult {
  /** Every routed path counted the run's tweets in Valkey within this long after the last answer (null: not within 30 s). */
  countedWithinMs: number | null;
  /** Mean time per call at each hop, outermost first (see `probes`). */
  hops: Record<string, Hop>;
}

/** A hop's histogram in the Prometheus text format: `_sum` and `_count` of the series whose labels match. */
interface Probe {
  hop: string;
  target: 'api' | 'dispatcher' | 'writer-kafka' | 'writer-rabbitmq';
  metric: string;
  labels: Record<string, string>;
}

const probes = (paths: readonly BrokerPath[]): Probe[] => [
  // POST /tweets in the API, from request received to answer sent
  { hop: 'api', target: 'api', metric: 'http_server_request_duration_seconds', labels: { route: '/tweets', method: 'POST' } },
  // the API's batch to the dispatcher and its answer
  { hop: 'api→dispatcher', target: 'api', metric: 'api_forward_duration_seconds', labels: {} },
  // a batch in the dispatcher, from request received to answer sent
  { hop: 'dispatcher', target: 'dispatcher', metric: 'http_server_request_duration_seconds', labels: { method: 'POST' } },
  ...paths.flatMap((p): Probe[] => [
    // the dispatcher's gRPC call to the path's writer and its answer
    { hop: `dispatcher→writer-${p}`, target: 'dispatcher', metric: 'dispatcher_writer_duration_seconds', labels: { path: p } },
    // in the path's writer, from tweets handed to the broker client to the broker's durable ack
    { hop: `${p} ack`, target: `writer-${p}`, metric: 'writer_publish_duration_seconds', labels: { broker: p } },
  ]),
];

/** Sums `<metric>_sum` and `<metric>_count` over the series whose labels include `labels`. */
export function histogramTotals(text: string, metric: string, labels: Record<string, string>): { sum: number; count: number } {
  const out = { sum: 0, count: 0 };
  for (const line of text.split('\n')) {
    const m = /^(\w+?)_(sum|count)(?:\{([^}]*)\})? ([\d.eE+-]+|NaN)$/.exec(line);
    if (!m || m[1] !== metric) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).some(([k, v]) => have[k] !== v)) continue;
    out[m[2] as 'sum' | 'count'] += Number(m[4]);
  }
  return out;
}

function metricsUrls(l: StackLayout): Record<Probe['target'], string> {
  return {
    api: `http://127.0.0.1:${l.ports.api}/metrics`,
    dispatcher: `http://127.0.0.1:${l.ports.dispatcher}/metrics`,
    'writer-kafka': `http://127.0.0.1:${l.ports.kafkaWriterMetrics}/metrics`,
    'writer-rabbitmq': `http://127.0.0.1:${l.ports.rabbitmqWriterMetrics}/metrics`,
  };
}

async function scrape(l: StackLayout, ps: Probe[]): Promise<Map<Probe, { sum: number; count: number }>> {
  const urls = metricsUrls(l);
  const texts = new Map<string, string>();
  for (const t of new Set(ps.map((p) => p.target)))
    texts.set(t, await (await fetch(urls[t], { signal: AbortSignal.timeout(5000) })).text());
  return new Map(ps.map((p) => [p, histogramTotals(texts.get(p.target)!, p.metric, p.labels)]));
}

export interface SeedLoadOptions {
  clients: number;
  tweets: number;
  /** The paths the stack routes to, whose writers are probed and whose counts must grow. */
  paths: readonly BrokerPath[];
  idPrefix: string;
  /** The run stops after this, whatever is left (default 5 minutes). */
  maxDurationMs?: number;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export interface ClosedLoopResult {
  clients: number;
  tweets: number;
  accepted: number;
  /** Tweets accepted per second of the run's wall time. */
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** CPU seconds per 1,000 tweets of each process in `pids`, and of the load client. */
  cpuSecPer1000: Record<string, number>;
}

/** `tweets` tweets from `clients` closed-loop clients to `url`, with the CPU the named processes spent on them. */
export async function closedLoop(
  url: string,
  o: { clients: number; tweets: number; idPrefix: string; pids: Record<string, number>; maxDurationMs?: number },
): Promise<ClosedLoopResult> {
  const sampler = new TreeSampler(o.pids);
  const cpu0 = sampler.sample();
  const self0 = process.cpuUsage();
  const load = await runLoad({
    domain: weather,
    url,
    count: o.tweets,
    concurrency: o.clients,
    idPrefix: o.idPrefix,
    maxDurationMs: o.maxDurationMs ?? 300_000,
  });
  const self = process.cpuUsage(self0);
  const cpu1 = sampler.sample();
  const per1000 = (sec: number) => Math.round((sec / Math.max(1, load.accepted)) * 1e6) / 1000;
  const cpuSecPer1000: Record<string, number> = Object.fromEntries(
    Object.keys(cpu0).map((n) => [n, per1000(cpu1[n]!.cpuSec - cpu0[n]!.cpuSec)]),
  );
  cpuSecPer1000['load client'] = per1000((self.user + self.system) / 1e6);
  const sorted = [...load.latenciesMs].sort((a, b) => a - b);
  return {
    clients: o.clients,
    tweets: o.tweets,
    accepted: load.accepted,
    throughput: Math.round((load.accepted / load.wallMs) * 1000),
    p50Ms: r2(percentile(sorted, 50)),
    p99Ms: r2(percentile(sorted, 99)),
    maxMs: r2(sorted[sorted.length - 1] ?? Number.NaN),
    meanMs: r2(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)),
    cpuSecPer1000,
  };
}

/** Runs `tweets` tweets from `clients` closed-loop clients against the stack and breaks their time down by hop. */
export async function seedLoad(l: StackLayout, o: SeedLoadOptions): Promise<SeedLoadResult> {
  const ps = probes(o.paths);
  const statsBefore = await fetchStats(l.apiUrl);
  const before = await scrape(l, ps);
  const run = await closedLoop(l.apiUrl, { ...o, pids: stackPids(l) });
  const after = await scrape(l, ps);
  const { reached, waitedMs } = await waitForCounts(
    l.apiUrl,
    statsBefore,
    Object.fromEntries(o.paths.map((p) => [p, run.accepted])),
    30_000,
  );
  const hops: Record<string, Hop> = { client: { calls: run.accepted, meanMs: run.meanMs } };
  for (const p of ps) {
    const [b, a] = [before.get(p)!, after.get(p)!];
    const calls = a.count - b.count;
    hops[p.hop] = { calls, meanMs: calls > 0 ? r2(((a.sum - b.sum) / calls) * 1000) : 0 };
  }
  return { ...run, countedWithinMs: reached ? waitedMs : null, hops };
}

/** The total, then the largest shares: `2.1 (api 0.5, dispatcher 0.4, …)`. */
function cpuLine(c: Record<string, number>): string {
  const total = Object.values(c).reduce((a, b) => a + b, 0);
  const top = Object.entries(c)
    .filter(([, v]) => v >= 0.01)
    .sort((a, b) => b[1] - a[1]);
  return `${Math.round(total * 100) / 100} (${top.map(([n, v]) => `${n} ${v}`).join(', ')})`;
}

/** A table of hop means, one column per run. */
export function hopTable(runs: { label: string; r: SeedLoadResult }[]): string {
  const hops = Object.keys(runs[0]?.r.hops ?? {});
  const lines = [
    `| hop | ${runs.map((x) => x.label).join(' | ')} |`,
    `|---|${runs.map(() => '---:').join('|')}|`,
    ...hops.map(
      (h) => `| ${h} | ${runs.map(({ r }) => (r.hops[h] ? `${r.hops[h].meanMs} ms (${r.hops[h].calls} calls)` : '–')).join(' | ')} |`,
    ),
    `| **throughput** | ${runs.map(({ r }) => `${r.throughput}/s`).join(' | ')} |`,
    `| **p50 / p99 / max** | ${runs.map(({ r }) => `${r.p50Ms} / ${r.p99Ms} / ${r.maxMs} ms`).join(' | ')} |`,
    `| **CPU s per 1,000 tweets** | ${runs.map(({ r }) => cpuLine(r.cpuSecPer1000)).join(' | ')} |`,
  ];
  return lines.join('\n');
}

export function routedPaths(route: Route): readonly BrokerPath[] {
  return route === 'both' ? weather.paths : [route];
}

/** The PID of each of the stack's running processes, by name. */
export function stackPids(l: StackLayout): Record<string, number> {
  return Object.fromEntries(
    Object.entries(readState(l)?.components ?? {})
      .filter(([, c]) => c.pid)
      .map(([n, c]) => [n, c.pid!]),
  );
}

export interface SeedLoads {
  /** One client, one tweet at a time, on an otherwise idle stack. */
  idle: SeedLoadResult;
  /** The seed's load: `clients` clients, `tweets` tweets. */
  seed: SeedLoadResult;
  /**
   * The same load against the bare endpoint (parse JSON, answer 202): one HTTP hop and the load
   * client alone, what every tweet costs before the pipeline does anything.
   */
  bare: ClosedLoopResult | null;
  /**
   * Each broker and Valkey alone, at the seed load's rate and batch size (tweets per batch to the
   * writers), and the ceiling they and the bare endpoint set: the most any implementation of this
   * pipeline could sustain here at that batch size, were its own services free.
   */
  floors: (Floors & { ceiling: number; usPerTweet: number; share: number }) | null;
  machine: { cores: number; cpuModel: string };
}

export const IDLE_TWEETS = 200;

/** Warms the stack up (JIT, pools, the brokers' first writes), then runs the idle and the seed's load. */
export async function runSeedLoads(
  l: StackLayout,
  o: {
    clients: number;
    tweets: number;
    paths: readonly BrokerPath[];
    log: (m: string) => void;
    bare?: { url: string; pid: number };
    floorSec?: number;
    /** Seconds of the same load first, not measured: a fresh stack's JIT (Node.js and the Kafka JVM) is still compiling. */
    warmupSec: number;
  },
): Promise<SeedLoads> {
  const id = `seed-${Date.now()}`;
  o.log(`seed load: warm-up, ${o.warmupSec} s from ${o.clients} clients`);
  await seedLoad(l, { clients: o.clients, tweets: 1_000_000, maxDurationMs: o.warmupSec * 1000, paths: o.paths, idPrefix: `${id}-warm` });
  o.log(`seed load: ${IDLE_TWEETS} tweets one at a time`);
  const idle = await seedLoad(l, { clients: 1, tweets: IDLE_TWEETS, paths: o.paths, idPrefix: `${id}-idle` });
  o.log(`seed load: idle p50 ${idle.p50Ms} ms, p99 ${idle.p99Ms} ms; now ${o.tweets} tweets from ${o.clients} clients`);
  const seed = await seedLoad(l, { clients: o.clients, tweets: o.tweets, paths: o.paths, idPrefix: `${id}-seed` });
  o.log(`seed load: ${seed.throughput}/s, p50 ${seed.p50Ms} ms, p99 ${seed.p99Ms} ms`);
  let bare: ClosedLoopResult | null = null;
  if (o.bare) {
    await closedLoop(o.bare.url, {
      clients: o.clients,
      tweets: 1_000_000,
      maxDurationMs: Math.min(5, o.warmupSec) * 1000,
      idPrefix: `${id}-bare-warm`,
      pids: {},
    });
    bare = await closedLoop(o.bare.url, { clients: o.clients, tweets: o.tweets, idPrefix: `${id}-bare`, pids: { bare: o.bare.pid } });
    o.log(`seed load on the bare endpoint: ${bare.throughput}/s, p50 ${bare.p50Ms} ms, p99 ${bare.p99Ms} ms`);
  }
  let floors: SeedLoads['floors'] = null;
  const batches = seed.hops['api→dispatcher']?.calls ?? 0;
  if (o.floorSec && bare && batches > 0) {
    const batch = Math.max(1, Math.round(seed.accepted / batches));
    const f = await measureFloors(l, stackPids(l), { rate: seed.throughput, seconds: o.floorSec, batch });
    // A tweet costs at least the HTTP edge under the same clients, and per routed path its broker and one Valkey apply.
    const edgeUs = (bare.cpuSecPer1000.bare! + bare.cpuSecPer1000['load client']!) * 1000;
    const usPerTweet = Math.round(edgeUs + o.paths.reduce((a, p) => a + f.us[p] + f.us.valkey, 0));
    const ceiling = Math.floor((cpus().length * 1e6) / usPerTweet / 10) * 10;
    floors = { ...f, usPerTweet, ceiling, share: Math.round((seed.throughput / ceiling) * 100) / 100 };
    o.log(
      `seed load floors (CPU µs per tweet, batches of ${batch}): ${JSON.stringify(f.us)}; ceiling ${ceiling}/s, reached ${floors.share}`,
    );
  }
  return { idle, seed, bare, floors, machine: cpuOf() };
}

export function seedLoadMarkdown(s: SeedLoads): string {
  const b = s.bare;
  const total = (c: Record<string, number>) => Math.round(Object.values(c).reduce((x, y) => x + y, 0) * 1000) / 1000;
  return [
    hopTable([
      { label: `1 client, ${s.idle.tweets} tweets`, r: s.idle },
      { label: `${s.seed.clients} clients, ${s.seed.tweets} tweets`, r: s.seed },
    ]),
    '',
    `Counted on every path within ${s.idle.countedWithinMs ?? '—'} ms and ${s.seed.countedWithinMs ?? '—'} ms of the last answer.`,
    ...(b
      ? [
          `The same ${b.clients} clients against the bare endpoint (one HTTP hop, no pipeline): ${b.throughput}/s, p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms,` +
            ` ${total(b.cpuSecPer1000)} CPU s per 1,000 tweets (${Object.entries(b.cpuSecPer1000)
              .map(([n, v]) => `${n} ${v}`)
              .join(', ')}).`,
        ]
      : []),
    ...(s.floors
      ? [
          `Each component alone at ${s.floors.rate}/s in batches of ${s.floors.batch} (CPU µs per tweet): RabbitMQ ${s.floors.us.rabbitmq}, Kafka ${s.floors.us.kafka}, Valkey ${s.floors.us.valkey} per path;` +
            ` with the bare endpoint's, at least ${s.floors.usPerTweet} µs a tweet: ${s.machine.cores} cores sustain at most ${s.floors.ceiling}/s at these batch sizes, were our services free; the seed load reached ${s.floors.share} of that.`,
        ]
      : []),
  ].join('\n');
}
