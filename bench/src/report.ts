import type { StepResult } from './openloop.js';

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
  steps: (StepResult & { passed: boolean; reason: string; countedWithinMs: number | null })[];
  /** CPU seconds per 1,000 tweets and peak RSS of each process, at the highest passing step. */
  processes: Record<string, ProcessCost>;
}

export interface BenchResults {
  date: string;
  commit: string;
  quick: boolean;
  machine: { cores: number; cpuModel: string; memoryGiB: number; node: string };
  criteria: { stepSeconds: number; p99MaxMs: number; drainMaxMs: number };
  bare: ScenarioResult;
  naive: ScenarioResult;
  fanout: ScenarioResult & { ratioToBare: number };
  kafkaOnly: ScenarioResult;
  rabbitmqOnly: ScenarioResult;
}

export function markdown(r: BenchResults): string {
  const rows = (['bare', 'naive', 'fanout', 'kafkaOnly', 'rabbitmqOnly'] as const).map((k) => {
    const s = r[k];
    return `| ${k} | ${s.description} | ${s.maxRate} | ${s.p50Ms ?? '—'} | ${s.p99Ms ?? '—'} |`;
  });
  const procs = new Set<string>();
  for (const k of ['fanout', 'kafkaOnly', 'rabbitmqOnly', 'naive'] as const) for (const p of Object.keys(r[k].processes)) procs.add(p);
  const costRows = [...procs].map(
    (p) =>
      `| ${p} | ${(['fanout', 'kafkaOnly', 'rabbitmqOnly', 'naive'] as const)
        .map((k) => {
          const c = r[k].processes[p];
          return c ? `${c.cpuSecPer1000.toFixed(3)} / ${Math.round(c.peakRssMb)}` : '—';
        })
        .join(' | ')} |`,
  );
  return [
    `# Benchmark ${r.date} (${r.commit})${r.quick ? ' — quick' : ''}`,
    '',
    `Machine: ${r.machine.cores} cores (${r.machine.cpuModel}), ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; everything local.`,
    `A rate passes when, over ${r.criteria.stepSeconds} s of open-loop load, every tweet is accepted, p99 ≤ ${r.criteria.p99MaxMs} ms (measured from`,
    `the intended send time), and both paths count every tweet within ${r.criteria.drainMaxMs / 1000} s after the load ends.`,
    '',
    '| scenario | what | max rate (tweets/s) | p50 ms | p99 ms |',
    '| --- | --- | ---: | ---: | ---: |',
    ...rows,
    '',
    `Fan-out / bare ceiling: ${r.fanout.ratioToBare}. Fan-out / naive: ${r.naive.maxRate ? (r.fanout.maxRate / r.naive.maxRate).toFixed(1) : '—'}×.`,
    '',
    'CPU seconds per 1,000 tweets / peak RSS MB, at each scenario\'s highest passing rate:',
    '',
    '| process | fanout | kafkaOnly | rabbitmqOnly | naive |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...costRows,
    '',
  ].join('\n');
}

/** Rate against p50 and p99 for each scenario, log-scale latency. */
export function svg(r: BenchResults): string {
  const W = 760;
  const H = 420;
  const m = { l: 60, r: 160, t: 30, b: 50 };
  const series = (['bare', 'naive', 'fanout', 'kafkaOnly', 'rabbitmqOnly'] as const).map((k) => ({ k, steps: r[k].steps.filter((s) => Number.isFinite(s.p99Ms)) }));
  const maxRate = Math.max(1, ...series.flatMap((s) => s.steps.map((x) => x.rate)));
  const lat = series.flatMap((s) => s.steps.flatMap((x) => [x.p50Ms, x.p99Ms])).filter((x) => x > 0 && Number.isFinite(x));
  const lo = Math.max(0.1, Math.min(1, ...lat));
  const hi = Math.max(100, ...lat);
  const x = (v: number) => m.l + (v / maxRate) * (W - m.l - m.r);
  const y = (v: number) => m.t + (1 - (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (H - m.t - m.b);
  const colors: Record<string, string> = { bare: '#888', naive: '#d62728', fanout: '#1f77b4', kafkaOnly: '#2ca02c', rabbitmqOnly: '#ff7f0e' };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.l}" y="18" font-size="14">Latency against offered rate (solid p99, dashed p50), ${r.date} ${r.commit}</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    `<text x="${(W - m.r + m.l) / 2}" y="${H - 12}" text-anchor="middle">offered rate (tweets/s)</text>`,
    `<text x="16" y="${(H - m.b + m.t) / 2}" transform="rotate(-90 16 ${(H - m.b + m.t) / 2})" text-anchor="middle">latency (ms, log)</text>`,
  ];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    const v = 10 ** e;
    if (v < lo || v > hi) continue;
    parts.push(`<line x1="${m.l}" y1="${y(v)}" x2="${W - m.r}" y2="${y(v)}" stroke="#eee"/><text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`);
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
