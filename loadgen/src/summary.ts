import { enumValues, type Domain } from '@tweets/domain';
import type { StatsOf } from '@tweets/store/stats';
import { percentile, type LoadResult } from './load.js';

export interface RunSummary {
  sent: number;
  accepted: number;
  rejected: number;
  failed: number;
  counted: Record<string, number>;
  throughputPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  drainMs: number;
  errors: Record<string, number>;
}

type AnyStats = { paths: Record<string, { total: number; counts: Record<string, Record<string, number>> }> };

export function summarize<D extends Domain>(d: D, load: LoadResult<D>, before: StatsOf<D>, after: StatsOf<D>, drainMs: number): RunSummary {
  const sorted = [...load.latenciesMs].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  const [b, a] = [before as unknown as AnyStats, after as unknown as AnyStats];
  return {
    sent: load.sent,
    accepted: load.accepted,
    rejected: load.rejected,
    failed: load.failed,
    counted: Object.fromEntries(d.paths.map((p) => [p, a.paths[p]!.total - b.paths[p]!.total])),
    throughputPerSec: Math.round((load.accepted / load.wallMs) * 1000),
    latencyMs: {
      p50: r(percentile(sorted, 50)),
      p95: r(percentile(sorted, 95)),
      p99: r(percentile(sorted, 99)),
      max: r(sorted[sorted.length - 1] ?? Number.NaN),
    },
    drainMs,
    errors: load.errors,
  };
}

const BAR = '█';

/** The seed's dashboard in the terminal: reports per counted value (weather condition), per group (municipality), per path. */
export function renderBars<D extends Domain>(d: D, stats: StatsOf<D>, width = 36): string {
  const s = stats as unknown as AnyStats;
  const groups = enumValues(d, d.groupBy);
  const counted = enumValues(d, d.countBy);
  const bar = (n: number, max: number) => `${BAR.repeat(Math.round((n / max) * width)).padEnd(width)} ${String(n).padStart(7)}`;
  if (d.countBy === d.groupBy) {
    // One dimension (sales per category): a bar per value.
    const pad1 = Math.max(...groups.map((g) => g.length));
    const max1 = Math.max(1, ...d.paths.flatMap((p) => groups.map((g) => s.paths[p]!.counts[g]![g]!)));
    const rows = groups.map((g) => `  ${g.padEnd(pad1)} ${d.paths.map((p) => bar(s.paths[p]!.counts[g]![g]!, max1)).join('   ')}`);
    return [`  ${''.padEnd(pad1)} ${d.paths.map((p) => `${p} path`.padEnd(width + 8)).join('   ')}`, ...rows].join('\n');
  }
  const pad = Math.max(...counted.map((c) => c.length));
  const max = Math.max(1, ...d.paths.flatMap((p) => groups.flatMap((g) => counted.map((c) => s.paths[p]!.counts[g]![c]!))));
  const lines: string[] = [];
  for (const g of groups) {
    lines.push(`  ${g}`);
    for (const c of counted) {
      const cells = d.paths.map((p) => bar(s.paths[p]!.counts[g]![c]!, max));
      lines.push(`    ${c.padEnd(pad)} ${cells.join('   ')}`);
    }
  }
  const header = `    ${''.padEnd(pad)} ${d.paths.map((p) => `${p} path`.padEnd(width + 8)).join('   ')}`;
  return [header, ...lines].join('\n');
}

export function renderSummary<D extends Domain>(d: D, s: RunSummary, after: StatsOf<D>): string {
  const counted = d.paths.map((p) => `${p} ${s.counted[p]}`).join(', ');
  const errors = Object.keys(s.errors).length ? `\n  errors      ${JSON.stringify(s.errors)}` : '';
  return [
    'Run summary',
    `  sent        ${s.sent}`,
    `  accepted    ${s.accepted} (202)   rejected ${s.rejected} (4xx)   failed ${s.failed} (5xx or no answer)`,
    `  counted     ${counted}   (this run's increase in GET /stats, ${s.drainMs} ms after the last answer)`,
    `  throughput  ${s.throughputPerSec} ${d.item}s/s accepted`,
    `  latency     p50 ${s.latencyMs.p50} ms   p95 ${s.latencyMs.p95} ms   p99 ${s.latencyMs.p99} ms   max ${s.latencyMs.max} ms${errors}`,
    '',
    `Reports per ${d.countBy} (all runs, from Valkey)`,
    renderBars(d, after),
  ].join('\n');
}
