import { connect, type Socket } from 'node:net';
import { weather, type Domain } from '@tweets/domain';
import { percentile, randomItem, rng } from '@tweets/loadgen';

/**
 * An open-loop load: requests start at a fixed rate whatever the server does,
 * and each latency is measured from the request's intended start, so a slow
 * server cannot hide its delay by slowing the client (no coordinated omission).
 *
 * The client is a lean HTTP/1.1 one on plain sockets: keep-alive connections,
 * one request at a time on each (no pipelining, as a browser or Locust does),
 * each request one write. On a two-core machine the load generator shares the
 * CPU with the system under test, so its own cost per request matters; it is
 * measured and reported with the rest.
 */
export interface OpenLoopOptions {
  url: string;
  path: string;
  rate: number;
  durationMs: number;
  /** Most connections opened; a request due when all are busy waits for one (its wait counts in its latency). */
  connections: number;
  idPrefix: string;
  /**
   * The first `rampMs` of the step run at its full rate but are left out of the
   * latency figures: the pipeline's answer to the jump from the previous rate
   * is a transient, the step measures what it sustains (default 0).
   */
  rampMs?: number;
  /** Connections opened before the clock starts, so a step does not measure connection setup (default: 20 ms worth of requests). */
  preconnect?: number;
  /** Requests waiting or in flight beyond this are not sent and count as errors: memory stays bounded. */
  maxOutstanding?: number;
  timeoutMs?: number;
  seed?: number;
  /** Where to mark each request answered 2xx, by its sequence number (its Idempotency-Key is `<idPrefix>-<n>`). */
  accepted?: Uint8Array;
  /** The items' domain (weather's tweets unless said). */
  domain?: Domain;
}

export interface StepResult {
  rate: number;
  durationMs: number;
  sent: number;
  ok: number;
  non2xx: number;
  /** The answers other than 2xx, by status. */
  statuses?: Record<number, number>;
  errors: number;
  achievedRate: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Worst latency of the requests due in each second of the step, in ms: where the tail comes from. */
  maxBySecondMs: number[];
}

interface Conn {
  socket: Socket;
  busy: boolean;
  /** Sequence number of the request in flight. */
  n: number;
  /** Intended start of the request in flight. */
  intended: number;
  sentAt: number;
  buf: Buffer | undefined;
}

/** Parses one HTTP/1.1 response at the start of `b`: its status and length in bytes, or undefined if incomplete. */
export function parseResponse(b: Buffer): { status: number; length: number; close: boolean } | undefined {
  const end = b.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = b.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const lower = head.toLowerCase();
  const close = /\r\nconnection:\s*close/.test(lower);
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  if (cl) {
    const length = end + 4 + Number(cl[1]);
    return b.length >= length ? { status, length, close } : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/.test(lower)) {
    let i = end + 4;
    for (;;) {
      const eol = b.indexOf('\r\n', i);
      if (eol < 0) return undefined;
      const size = parseInt(b.toString('latin1', i, eol), 16);
      i = eol + 2 + size + 2;
      if (b.length < i) return undefined;
      if (size === 0) return { status, length: i, close };
    }
  }
  return { status, length: end + 4, close };
}

export async function openLoop(o: OpenLoopOptions): Promise<StepResult> {
  const u = new URL(o.url);
  const host = u.hostname;
  const port = Number(u.port || 80);
  const next = rng(o.seed ?? 1);
  const bodies = Array.from({ length: 1024 }, () => JSON.stringify(randomItem(o.domain ?? weather, next)));
  const head = `POST ${o.path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\n`;
  const maxOutstanding = o.maxOutstanding ?? 20_000;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const total = Math.floor((o.rate * (o.durationMs + (o.rampMs ?? 0))) / 1000);
  const latencies = new Float64Array(total);
  let nLat = 0;
  let sent = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const statuses: Record<number, number> = {};
  let outstanding = 0;
  let lastDone = 0;
  const conns: Conn[] = [];
  const idle: Conn[] = [];
  /** Due requests waiting for a free connection: their sequence numbers. */
  const waiting: number[] = [];
  let waitHead = 0;
  let t0 = performance.now();
  const interval = 1000 / o.rate;

  const maxBySecond: number[] = [];
  const rampMs = o.rampMs ?? 0;
  const done = (intended: number, good: boolean | undefined, n = -1) => {
    if (good === true && n >= 0 && o.accepted) o.accepted[n] = 1;
    const now = performance.now();
    const lat = now - intended;
    lastDone = now;
    outstanding--;
    if (good === true) ok++;
    else if (good === false) non2xx++;
    else errors++;
    if (intended - t0 < rampMs) return;
    latencies[nLat++] = lat;
    const sec = Math.floor((intended - t0 - rampMs) / 1000);
    if (!(lat <= (maxBySecond[sec] ?? 0))) maxBySecond[sec] = lat;
  };

  const send = (c: Conn, n: number) => {
    const body = bodies[n % bodies.length]!;
    c.busy = true;
    c.n = n;
    c.intended = t0 + n * interval;
    c.sentAt = performance.now();
    c.socket.write(`${head}Idempotency-Key: ${o.idPrefix}-${n}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  };

  const release = (c: Conn) => {
    c.busy = false;
    if (waitHead < waiting.length) {
      send(c, waiting[waitHead++]!);
      if (waitHead > 4096 && waitHead * 2 > waiting.length) {
        waiting.splice(0, waitHead);
        waitHead = 0;
      }
    } else idle.push(c);
  };

  const open = (): Conn => {
    const c: Conn = { socket: connect({ host, port, noDelay: true }), busy: false, n: -1, intended: 0, sentAt: 0, buf: undefined };
    c.socket.on('data', (chunk: Buffer) => {
      c.buf = c.buf ? Buffer.concat([c.buf, chunk]) : chunk;
      const r = parseResponse(c.buf);
      if (!r || !c.busy) return;
      c.buf = c.buf.length > r.length ? c.buf.subarray(r.length) : undefined;
      const good = r.status >= 200 && r.status < 300;
      if (!good) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      done(c.intended, good, c.n);
      if (r.close) {
        // answered: the request is done, only the connection goes (not counted again as failed)
        c.busy = false;
        reopen(c);
      } else release(c);
    });
    c.socket.on('error', () => {});
    c.socket.on('close', () => reopen(c));
    conns.push(c);
    return c;
  };

  /** A connection that closed or timed out: its request (if any) failed; a new connection takes its place. */
  const reopen = (c: Conn) => {
    const i = conns.indexOf(c);
    if (i < 0) return;
    conns.splice(i, 1);
    const j = idle.indexOf(c);
    if (j >= 0) idle.splice(j, 1);
    c.socket.removeAllListeners('close');
    c.socket.destroy();
    if (c.busy) done(c.intended, undefined);
    c.busy = false;
    if (!finished) release(open());
  };

  let finished = false;
  const warm = Math.min(o.connections, o.preconnect ?? Math.max(8, Math.ceil(o.rate / 50)));
  await Promise.all(
    Array.from({ length: warm }, () => {
      const c = open();
      return new Promise<void>((resolve) => {
        c.socket.once('connect', () => resolve());
        c.socket.once('error', () => resolve());
        c.socket.once('close', () => resolve());
      });
    }),
  );
  idle.length = 0;
  for (const c of conns) if (!c.busy) idle.push(c);
  t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - t0) / interval) + 1);
      while (sent < due) {
        if (outstanding >= maxOutstanding) {
          errors++;
          latencies[nLat++] = Number.POSITIVE_INFINITY;
        } else {
          outstanding++;
          const c = idle.pop() ?? (conns.length < o.connections ? open() : undefined);
          if (c) send(c, sent);
          else waiting.push(sent);
        }
        sent++;
      }
      for (const c of conns) if (c.busy && now - c.sentAt > timeoutMs) reopen(c);
      if (sent >= total) resolve();
      else setTimeout(tick, Math.max(0, Math.min(2, interval)));
    };
    tick();
  });
  const deadline = performance.now() + timeoutMs + 1000;
  while (outstanding > 0 && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
    const now = performance.now();
    for (const c of [...conns]) if (c.busy && now - c.sentAt > timeoutMs) reopen(c);
  }
  finished = true;
  for (const c of conns) {
    c.socket.removeAllListeners('close');
    c.socket.destroy();
  }
  // Anything still waiting never got a connection: an error at the deadline.
  for (let i = waitHead; i < waiting.length; i++) done(t0 + waiting[i]! * interval, undefined);
  const lat = latencies.subarray(0, nLat).sort();
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const wall = (lastDone || performance.now()) - t0;
  return {
    rate: o.rate,
    durationMs: o.durationMs,
    sent,
    ok,
    non2xx,
    statuses,
    errors,
    achievedRate: Math.round((ok / wall) * 1000),
    p50Ms: r2(percentile(lat as unknown as number[], 50)),
    p90Ms: r2(percentile(lat as unknown as number[], 90)),
    p99Ms: r2(percentile(lat as unknown as number[], 99)),
    maxMs: r2(lat[lat.length - 1] ?? Number.NaN),
    maxBySecondMs: Array.from(maxBySecond, (x) => Math.round(x ?? 0)),
  };
}
