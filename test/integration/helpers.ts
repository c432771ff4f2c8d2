import assert from 'node:assert/strict';
import type { InfinityTarget } from '@tweets/dashboards';
import { weather, type Domain, type WeatherDomain } from '@tweets/domain';
import { fetchStats, runLoad, waitForCounts, type LoadOptions, type LoadResult } from '@tweets/loadgen';
import { layout, readState, secrets, type Secrets } from '@tweets/stack';

/** The stack the tests run against: `npm test` starts the `test` stack and sets STACK. */
export const stack = layout(process.env.STACK ?? 'test');
export const api = stack.apiUrl;
export const creds: Secrets = secrets(stack);

export function pidOf(component: string): number {
  const pid = readState(stack)?.components[component]?.pid;
  if (!pid) throw new Error(`${component} is not running in stack ${stack.name}`);
  return pid;
}

export async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; type: string; json: any }> {
  const res = await fetch(`${api}/tweets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', json };
}

/**
 * How long a test waits for the consumers to count what it sent. A guard against
 * a hang, far above what a slow machine needs: the wait ends as soon as the
 * counts are reached. The consumers run at the lowest CPU priority, so on a
 * busy machine they catch up only once the load is over.
 */
export const COUNT_GUARD_MS = 180_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function uniq(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
}

/** Restarts of every process of the stack so far, as the supervisor counts them. */
export function restarts(): Record<string, number> {
  const s = readState(stack);
  return Object.fromEntries(Object.entries(s?.components ?? {}).map(([n, c]) => [n, c.restarts]));
}

/** Runs an Infinity target as its backend parser would: GET the URL (variables substituted), pick the rows, map the columns. */
export async function infinity(t: InfinityTarget, vars: Record<string, string>): Promise<Record<string, string | number>[]> {
  const url = t.url.replace(/\$(\w+)/g, (_, v: string) => vars[v] ?? `$${v}`);
  assert.doesNotMatch(url, /\$/, `every variable of ${t.url} has a value`);
  const res = await fetch(`${api}${url}`);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  let rows = (await res.json()) as unknown;
  for (const key of t.root_selector ? t.root_selector.split('.') : []) rows = (rows as Record<string, unknown>)[key];
  assert.ok(
    Array.isArray(rows) && rows.length > 0,
    `${url} (root ${JSON.stringify(t.root_selector)}) gives rows: a panel with none shows "No data"`,
  );
  return (rows as Record<string, unknown>[]).map((r) =>
    Object.fromEntries(
      t.columns.map((c) => {
        const v = r[c.selector];
        if (c.type === 'number' || c.type === 'timestamp_epoch')
          assert.equal(typeof v, 'number', `${url}: ${c.selector} is a number (${JSON.stringify(v)})`);
        else assert.equal(typeof v, 'string', `${url}: ${c.selector} is a string`);
        return [c.text, v as string | number];
      }),
    ),
  );
}

/**
 * A load whose clients retry with their keys, and a component of the stack SIGKILLed once a third of the
 * load is accepted (whatever the machine's speed); the supervisor restarts it. Resolves with the load's
 * result and the PID that was killed.
 */
export async function killUnderLoad<D extends Domain>(
  component: string,
  o: Omit<LoadOptions<D>, 'progress' | 'retry'>,
): Promise<{ result: LoadResult<D>; victim: number }> {
  const progress = { sent: 0, accepted: 0, lastAcceptedAt: 0 };
  let settled = false;
  const load = runLoad({ ...o, retry: { maxTotalMs: 120_000 }, progress }).finally(() => {
    settled = true;
  });
  while (!settled && progress.accepted < o.count / 3) await sleep(20);
  assert.ok(!settled, `the load ended before ${component} could be killed under it`);
  const victim = pidOf(component);
  process.kill(victim, 'SIGKILL');
  return { result: await load, victim };
}

/**
 * Weather tweets from 20 clients that retry with their keys, one component SIGKILLed a third of the way in:
 * every tweet accepted, and counted exactly once on both paths.
 */
export async function killedUnderLoadCountsOnce(component: string, idPrefix: string, n = 4000): Promise<void> {
  const before = await fetchStats<WeatherDomain>(api);
  const { result: r } = await killUnderLoad(component, { domain: weather, url: api, count: n, concurrency: 20, idPrefix: uniq(idPrefix) });
  assert.equal(r.accepted, n, JSON.stringify(r.errors));
  const { reached } = await waitForCounts(api, before, { kafka: n, rabbitmq: n }, COUNT_GUARD_MS);
  assert.ok(reached, 'every accepted tweet counted on both paths');
  await sleep(1000);
  const after = await fetchStats<WeatherDomain>(api);
  for (const p of ['kafka', 'rabbitmq'] as const) assert.equal(after.paths[p].total - before.paths[p].total, n, `${p}: once each`);
}

/** Weather tweets from 20 clients that retry with their keys: every tweet accepted, and counted exactly once on both paths. */
export async function sentCountedOnce(idPrefix: string, n: number): Promise<void> {
  const before = await fetchStats<WeatherDomain>(api);
  const r = await runLoad({
    domain: weather,
    url: api,
    count: n,
    concurrency: 20,
    idPrefix: uniq(idPrefix),
    retry: { maxTotalMs: 60_000 },
  });
  assert.equal(r.accepted, n, JSON.stringify(r.errors));
  const { reached, stats } = await waitForCounts(api, before, { kafka: n, rabbitmq: n }, COUNT_GUARD_MS);
  assert.ok(reached, 'every accepted tweet counted on both paths');
  for (const p of ['kafka', 'rabbitmq'] as const) assert.equal(stats.paths[p].total - before.paths[p].total, n, `${p}: once each`);
}
