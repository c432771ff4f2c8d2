import { MUNICIPALITIES, WEATHERS } from '@tweets/tweet';
import { percentile, type LoadResult } from './load.js';
import { PATHS, type Stats } from './stats.js';

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

export function summarize(load: LoadResult, before: Stats, after: Stats, drainMs: number): RunSummary {
  const sorted = [...load.latenciesMs].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    sent: load.sent,
    accepted: load.accepted,
    rejected: load.rejected,
    failed: load.failed,
    counted: Object.fromEntries(PATHS.map((p) => [p, after.paths[p].total - before.paths[p].total])),
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

/** The seed's dashboard in the terminal: reports per weather condition, per municipality, per path. */
export function renderBars(stats: Stats, width = 36): string {
  const max = Math.max(1, ...PATHS.flatMap((p) => MUNICIPALITIES.flatMap((m) => WEATHERS.map((w) => stats.paths[p].counts[m][w]))));
  const lines: string[] = [];
  for (const m of MUNICIPALITIES) {
    lines.push(`  ${m}`);
    for (const w of WEATHERS) {
      const cells = PATHS.map((p) => {
        const n = stats.paths[p].counts[m][w];
        const bar = BAR.repeat(Math.round((n / max) * width));
        return `${bar.padEnd(width)} ${String(n).padStart(7)}`;
      });
      lines.push(`    ${w.padEnd(7)} ${cells.join('   ')}`);
    }
  }
  const header = `    ${''.padEnd(7)} ${PATHS.map((p) => `${p} path`.padEnd(width + 8)).join('   ')}`;
  return [header, ...lines].join('\n');
}

export function renderSummary(s: RunSummary, after: Stats): string {
  const counted = PATHS.map((p) => `${p} ${s.counted[p]}`).join(', ');
  const errors = Object.keys(s.errors).length ? `\n  errors      ${JSON.stringify(s.errors)}` : '';
  return [
    'Run summary',
    `  sent        ${s.sent}`,
    `  accepted    ${s.accepted} (202)   rejected ${s.rejected} (4xx)   failed ${s.failed} (5xx or no answer)`,
    `  counted     ${counted}   (this run's increase in GET /stats, ${s.drainMs} ms after the last answer)`,
    `  throughput  ${s.throughputPerSec} tweets/s accepted`,
    `  latency     p50 ${s.latencyMs.p50} ms   p95 ${s.latencyMs.p95} ms   p99 ${s.latencyMs.p99} ms   max ${s.latencyMs.max} ms${errors}`,
    '',
    'Reports per weather condition (all runs, from Valkey)',
    renderBars(after),
  ].join('\n');
}
