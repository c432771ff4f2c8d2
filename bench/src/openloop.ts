import { Pool } from 'undici';
import { percentile, randomTweet, rng } from '@tweets/loadgen';

/**
 * An open-loop load: requests start at a fixed rate whatever the server does,
 * and each latency is measured from the request's intended start, so a slow
 * server cannot hide its delay by slowing the client (no coordinated omission).
 */
export interface OpenLoopOptions {
  url: string;
  path: string;
  rate: number;
  durationMs: number;
  connections: number;
  idPrefix: string;
  /** Requests outstanding beyond this are not sent and count as errors: memory stays bounded. */
  maxOutstanding?: number;
  timeoutMs?: number;
  seed?: number;
}

export interface StepResult {
  rate: number;
  durationMs: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  achievedRate: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export async function openLoop(o: OpenLoopOptions): Promise<StepResult> {
  const pool = new Pool(o.url, { connections: o.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const next = rng(o.seed ?? 1);
  const bodies = Array.from({ length: 1024 }, () => JSON.stringify(randomTweet(next)));
  const maxOutstanding = o.maxOutstanding ?? 20_000;
  const latencies: number[] = [];
  let sent = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let outstanding = 0;
  let lastDone = 0;
  const total = Math.floor((o.rate * o.durationMs) / 1000);
  const t0 = performance.now();
  const interval = 1000 / o.rate;

  const fire = (n: number) => {
    const intended = t0 + n * interval;
    outstanding++;
    pool
      .request({
        path: o.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `${o.idPrefix}-${n}` },
        body: bodies[n % bodies.length]!,
        signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
      })
      .then(
        async (res) => {
          await res.body.dump();
          if (res.statusCode >= 200 && res.statusCode < 300) ok++;
          else non2xx++;
        },
        () => {
          errors++;
        },
      )
      .finally(() => {
        const now = performance.now();
        latencies.push(now - intended);
        lastDone = now;
        outstanding--;
      });
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
      while (sent < due) {
        if (outstanding >= maxOutstanding) {
          errors++;
          latencies.push(Number.POSITIVE_INFINITY);
        } else fire(sent);
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, Math.max(0, Math.min(5, interval)));
    };
    tick();
  });
  while (outstanding > 0) await new Promise((r) => setTimeout(r, 5));
  await pool.close();
  latencies.sort((a, b) => a - b);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const wall = (lastDone || performance.now()) - t0;
  return {
    rate: o.rate,
    durationMs: o.durationMs,
    sent,
    ok,
    non2xx,
    errors,
    achievedRate: Math.round((ok / wall) * 1000),
    p50Ms: r2(percentile(latencies, 50)),
    p90Ms: r2(percentile(latencies, 90)),
    p99Ms: r2(percentile(latencies, 99)),
    maxMs: r2(latencies[latencies.length - 1] ?? Number.NaN),
  };
}
