import type { BrokerPath, Domain } from '@tweets/domain';
import type { StatsOf } from '@tweets/store/stats';

export async function fetchStats<D extends Domain>(apiUrl: string): Promise<StatsOf<D>> {
  const res = await fetch(`${apiUrl}/stats`, { signal: AbortSignal.timeout(3000) });
  if (res.status !== 200) throw new Error(`GET /stats answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as StatsOf<D>;
}

/** A path's total in a `/stats` answer. */
const totalOf = (s: { paths: object }, p: BrokerPath) => (s.paths as Record<string, { total: number }>)[p]?.total ?? 0;

/**
 * Polls /stats until each path's total has grown by `expected` over `before`,
 * or `timeoutMs` passes. Returns the last read.
 */
export async function waitForCounts<D extends Domain>(
  apiUrl: string,
  before: StatsOf<D>,
  expected: Partial<Record<BrokerPath, number>>,
  timeoutMs = 60_000,
): Promise<{ stats: StatsOf<D>; reached: boolean; waitedMs: number }> {
  const t0 = Date.now();
  let stats = await fetchStats<D>(apiUrl);
  const reached = () =>
    Object.entries(expected).every(([p, n]) => totalOf(stats, p as BrokerPath) - totalOf(before, p as BrokerPath) >= (n ?? 0));
  while (!reached() && Date.now() - t0 < timeoutMs) {
    await new Promise((r) => setTimeout(r, 100));
    stats = await fetchStats<D>(apiUrl);
  }
  return { stats, reached: reached(), waitedMs: Date.now() - t0 };
}
