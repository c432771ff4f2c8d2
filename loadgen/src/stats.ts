import { MUNICIPALITIES, WEATHERS, type Municipality, type Weather } from '@tweets/tweet';

export const PATHS = ['kafka', 'rabbitmq'] as const;
export type PathName = (typeof PATHS)[number];

export interface PathStats {
  total: number;
  counts: Record<Municipality, Record<Weather, number>>;
}

export interface Stats {
  paths: Record<PathName, PathStats>;
}

export async function fetchStats(apiUrl: string): Promise<Stats> {
  const res = await fetch(`${apiUrl}/stats`, { signal: AbortSignal.timeout(3000) });
  if (res.status !== 200) throw new Error(`GET /stats answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Stats;
}

/**
 * Polls /stats until each path's total has grown by `expected` over `before`
 * (or stops growing for `quietMs`, or `timeoutMs` passes). Returns the last read.
 */
export async function waitForCounts(
  apiUrl: string,
  before: Stats,
  expected: Partial<Record<PathName, number>>,
  timeoutMs = 60_000,
): Promise<{ stats: Stats; reached: boolean; waitedMs: number }> {
  const t0 = Date.now();
  let stats = await fetchStats(apiUrl);
  const reached = () =>
    Object.entries(expected).every(([p, n]) => stats.paths[p as PathName].total - before.paths[p as PathName].total >= (n ?? 0));
  while (!reached() && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 100));
    stats = await fetchStats(apiUrl);
  }
  return { stats, reached: reached(), waitedMs: Date.now() - t0 };
}

/** after - before, per (municipality, weather). */
export function delta(before: PathStats, after: PathStats): Record<Municipality, Record<Weather, number>> {
  return Object.fromEntries(
    MUNICIPALITIES.map((m) => [m, Object.fromEntries(WEATHERS.map((w) => [w, after.counts[m][w] - before.counts[m][w]]))]),
  ) as Record<Municipality, Record<Weather, number>>;
}
