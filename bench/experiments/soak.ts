/**
 * `npm run bench -- --soak [--rate R] [--window S] [--minutes M]`: Valkey's
 * memory under sustained load. A fresh bench stack runs with the consumers'
 * dedup window scaled down (60 s by default) so that it fills within minutes;
 * an open-loop load runs at a steady rate (1,000/s by default) while Valkey's
 * used_memory is sampled every 5 s. Once the window and one bucket have
 * passed, memory must be flat: what the window holds leaves as fast as it
 * comes. At the end, the memory of every key is added up by kind (dedup
 * buckets, counts, averages, totals, recent), and the plateau is stated per
 * 1,000 tweets/s and per minute of window: the sizing formula of docs/valkey.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'iovalkey';
import { weather } from '@tweets/domain';
import { layout, ROOT, secrets, startStack, stopStack } from '@tweets/stack';
import { scanKeys } from '@tweets/store';
import { openLoop } from '../src/openloop.js';

export interface SoakOptions {
  rate: number;
  windowSec: number;
  slices: number;
  minutes: number;
  outDir: string;
  log: (m: string) => void;
}

export interface SoakResult {
  date: string;
  commit: string;
  machine: { cores: number; cpuModel: string; node: string };
  rate: number;
  windowSec: number;
  slices: number;
  seconds: number;
  /** used_memory minus the empty stack's, every 5 s: [seconds since the load began, bytes, ids held in the dedup buckets]. */
  samples: [number, number, number][];
  /** After the window and one bucket more (plus 30 s): the mean, and how far the samples stray from it. */
  plateau: { fromSec: number; meanBytes: number; minBytes: number; maxBytes: number; flatWithin: number };
  /** Bytes by kind of key at the end (MEMORY USAGE of every key, all samples). */
  byKind: Record<string, number>;
  /** Dedup bytes per id held, and the plateau per 1,000 tweets/s per minute of window (both paths). */
  bytesPerId: number;
  plateauPer1000PerMinuteMb: number;
  accepted: number;
  sent: number;
}

function kindOf(key: string): string {
  const rest = key.split(':').slice(2);
  if (rest[0] === 'seen') return 'dedup';
  if (rest[0] === 'counts') return 'counts';
  if (rest[0] === 'agg') return 'averages';
  if (rest[0] === 'recent') return 'recent';
  return 'totals';
}

async function usedMemory(r: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1] ?? 0);
}

async function seenIds(r: Redis): Promise<number> {
  const keys = await scanKeys(r, `${weather.keyPrefix}:*:seen:*`);
  let n = 0;
  for (const k of keys) n += await r.scard(k);
  return n;
}

export async function runSoak(o: SoakOptions): Promise<{ result: SoakResult; files: string[] }> {
  const l = layout('bench');
  const dedup = { DEDUP_WINDOW_SEC: String(o.windowSec), DEDUP_SLICES: String(o.slices) };
  process.env.STACK_ENV = JSON.stringify({ 'kafka-consumer': dedup, 'rabbitmq-consumer': dedup });
  await stopStack(l);
  rmSync(l.dir, { recursive: true, force: true });
  await startStack(l);
  const admin = new Redis({ host: '127.0.0.1', port: l.ports.valkey, username: 'default', password: secrets(l).valkeyAdminPassword });
  try {
    await sleep(2000);
    const base = await usedMemory(admin);
    const seconds = o.minutes * 60;
    const samples: SoakResult['samples'] = [];
    o.log(
      `soak: ${o.rate}/s for ${seconds} s, dedup window ${o.windowSec} s in ${o.slices} buckets; Valkey at ${Math.round(base / 2 ** 20)} MB`,
    );
    const t0 = Date.now();
    const load = openLoop({
      url: l.apiUrl,
      path: '/tweets',
      rate: o.rate,
      durationMs: seconds * 1000,
      connections: 64,
      idPrefix: `soak-${Date.now()}`,
    });
    let done = false;
    void load.finally(() => (done = true));
    while (!done) {
      await sleep(5000);
      const t = Math.round((Date.now() - t0) / 1000);
      samples.push([t, (await usedMemory(admin)) - base, await seenIds(admin)]);
      const [, bytes, ids] = samples.at(-1)!;
      if (t % 30 < 5) o.log(`  ${t} s: ${(bytes / 2 ** 20).toFixed(1)} MB above the empty stack, ${ids} ids in the dedup window`);
    }
    const s = await load;
    const fromSec = o.windowSec + Math.ceil(o.windowSec / o.slices) + 30;
    const plateau = samples.filter(([t]) => t >= fromSec).map(([, b]) => b);
    if (plateau.length < 3) throw new Error(`the soak ended before a plateau could show: run longer than ${fromSec + 15} s`);
    const meanBytes = plateau.reduce((a, b) => a + b, 0) / plateau.length;
    const byKind: Record<string, number> = {};
    for (const key of await scanKeys(admin, `${weather.keyPrefix}:*`)) {
      const kind = kindOf(key);
      byKind[kind] = (byKind[kind] ?? 0) + Number(await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
    }
    const ids = await seenIds(admin);
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const result: SoakResult = {
      date: new Date().toISOString(),
      commit,
      machine: { cores: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
      rate: o.rate,
      windowSec: o.windowSec,
      slices: o.slices,
      seconds,
      samples,
      plateau: {
        fromSec,
        meanBytes: Math.round(meanBytes),
        minBytes: Math.min(...plateau),
        maxBytes: Math.max(...plateau),
        flatWithin: Math.round((Math.max(...plateau.map((b) => Math.abs(b - meanBytes))) / meanBytes) * 1000) / 1000,
      },
      byKind,
      bytesPerId: ids ? Math.round((byKind.dedup ?? 0) / ids) : 0,
      plateauPer1000PerMinuteMb: Math.round((meanBytes / (o.rate / 1000) / (o.windowSec / 60) / 2 ** 20) * 100) / 100,
      accepted: s.ok,
      sent: s.sent,
    };
    mkdirSync(o.outDir, { recursive: true });
    const stem = join(o.outDir, `${result.date.slice(0, 19).replace(/[:T]/g, '-')}-${commit}-soak`);
    writeFileSync(`${stem}.json`, JSON.stringify(result, null, 2));
    writeFileSync(`${stem}.md`, soakMarkdown(result));
    writeFileSync(`${stem}.svg`, soakSvg(result));
    return { result, files: [`${stem}.json`, `${stem}.md`, `${stem}.svg`] };
  } finally {
    admin.disconnect();
    await stopStack(l);
    delete process.env.STACK_ENV;
  }
}

const mb = (b: number) => (b / 2 ** 20).toFixed(1);

export function soakMarkdown(r: SoakResult): string {
  return [
    `# Valkey memory under sustained load, ${r.date} (${r.commit})`,
    '',
    `Machine: ${r.machine.cores} cores (${r.machine.cpuModel}), Node ${r.machine.node}. Load: ${r.rate} tweets/s open-loop for ${r.seconds} s,`,
    `${r.accepted} of ${r.sent} accepted, both paths; dedup window ${r.windowSec} s in ${r.slices} buckets.`,
    '',
    `Plateau (from ${r.plateau.fromSec} s): ${mb(r.plateau.meanBytes)} MB above the empty stack, between ${mb(r.plateau.minBytes)} and ${mb(r.plateau.maxBytes)} MB:`,
    `flat within ${(r.plateau.flatWithin * 100).toFixed(1)}%. Per 1,000 tweets/s per minute of window: ${r.plateauPer1000PerMinuteMb} MB.`,
    `Dedup: ${r.bytesPerId} bytes per id held.`,
    '',
    '| kind of key | MB at the end |',
    '| --- | ---: |',
    ...Object.entries(r.byKind).map(([k, b]) => `| ${k} | ${mb(b)} |`),
    '',
  ].join('\n');
}

export function soakSvg(r: SoakResult): string {
  const W = 760;
  const H = 360;
  const m = { l: 70, r: 20, t: 30, b: 45 };
  const maxT = Math.max(1, ...r.samples.map(([t]) => t));
  const maxB = Math.max(1, ...r.samples.map(([, b]) => b)) * 1.1;
  const x = (t: number) => m.l + (t / maxT) * (W - m.l - m.r);
  const y = (b: number) => m.t + (1 - b / maxB) * (H - m.t - m.b);
  const pts = r.samples.map(([t, b]) => `${x(t).toFixed(1)},${y(b).toFixed(1)}`).join(' ');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.l}" y="18" font-size="14">Valkey used_memory above the empty stack, ${r.rate}/s, dedup window ${r.windowSec} s (${r.date.slice(0, 10)} ${r.commit})</text>`,
    `<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/>`,
    `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${H - m.b}" stroke="black"/>`,
    `<text x="${(W + m.l) / 2}" y="${H - 10}" text-anchor="middle">seconds since the load began</text>`,
    `<line x1="${x(r.plateau.fromSec)}" y1="${m.t}" x2="${x(r.plateau.fromSec)}" y2="${H - m.b}" stroke="#999" stroke-dasharray="4 4"/>`,
    `<line x1="${m.l}" y1="${y(r.plateau.meanBytes)}" x2="${W - m.r}" y2="${y(r.plateau.meanBytes)}" stroke="#2ca02c" stroke-dasharray="2 3"/>`,
    `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${pts}"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const b = (maxB * i) / 4;
    parts.push(`<text x="${m.l - 6}" y="${y(b) + 4}" text-anchor="end">${mb(b)} MB</text>`);
    const t = Math.round((maxT * i) / 4);
    parts.push(`<text x="${x(t)}" y="${H - m.b + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
