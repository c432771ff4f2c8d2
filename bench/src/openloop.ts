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
  timeoutMs?: number;
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

/** Requests waiting or in flight beyond this are not sent and count as errors: memory stays bounded. */
const MAX_OUTSTANDING = 20_000;

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
  const loop = new OpenLoop(o);
  await loop.preconnect();
  await loop.send();
  await loop.drain();
  return loop.result();
}

/** One open-loop step's client: its connections, the requests waiting for one, and what was answered. */
class OpenLoop {
  private readonly host: string;
  private readonly port: number;
  private readonly bodies: string[];
  private readonly head: string;
  private readonly timeoutMs: number;
  private readonly rampMs: number;
  private readonly total: number;
  private readonly interval: number;
  private readonly latencies: Float64Array;
  private nLat = 0;
  private sent = 0;
  private ok = 0;
  private non2xx = 0;
  private errors = 0;
  private readonly statuses: Record<number, number> = {};
  private outstanding = 0;
  private lastDone = 0;
  private readonly conns: Conn[] = [];
  private readonly idle: Conn[] = [];
  /** Due requests waiting for a free connection: their sequence numbers. */
  private waiting: number[] = [];
  private waitHead = 0;
  private t0 = performance.now();
  /** Worst latency of the requests due in each second (after the ramp). */
  private readonly maxBySecond: number[] = [];
  private finished = false;

  constructor(private readonly o: OpenLoopOptions) {
    const u = new URL(o.url);
    this.host = u.hostname;
    this.port = Number(u.port || 80);
    const next = rng(1);
    this.bodies = Array.from({ length: 1024 }, () => JSON.stringify(randomItem(o.domain ?? weather, next)));
    this.head = `POST ${o.path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\n`;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.rampMs = o.rampMs ?? 0;
    this.total = Math.floor((o.rate * (o.durationMs + this.rampMs)) / 1000);
    this.interval = 1000 / o.rate;
    this.latencies = new Float64Array(this.total);
  }

  /** Opens a connection per request due in 20 ms (at least 8) before the clock starts, so the step does not measure connection setup. */
  async preconnect(): Promise<void> {
    const warm = Math.min(this.o.connections, Math.max(8, Math.ceil(this.o.rate / 50)));
    await Promise.all(
      Array.from({ length: warm }, () => {
        const c = this.open();
        return new Promise<void>((resolve) => {
          c.socket.once('connect', () => resolve());
          c.socket.once('error', () => resolve());
          c.socket.once('close', () => resolve());
        });
      }),
    );
    this.idle.length = 0;
    for (const c of this.conns) if (!c.busy) this.idle.push(c);
    this.t0 = performance.now();
  }

  /** Starts every request at its time, on an idle connection, a new one, or (all busy) in the wait queue. */
  send(): Promise<void> {
    return new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.min(this.total, Math.floor((now - this.t0) / this.interval) + 1);
        while (this.sent < due) {
          if (this.outstanding >= MAX_OUTSTANDING) {
            this.errors++;
            this.latencies[this.nLat++] = Number.POSITIVE_INFINITY;
          } else {
            this.outstanding++;
            const c = this.idle.pop() ?? (this.conns.length < this.o.connections ? this.open() : undefined);
            if (c) this.request(c, this.sent);
            else this.waiting.push(this.sent);
          }
          this.sent++;
        }
        this.timeOut(now);
        if (this.sent >= this.total) resolve();
        else setTimeout(tick, Math.max(0, Math.min(2, this.interval)));
      };
      tick();
    });
  }

  /** Waits for the requests in flight (up to the timeout), then closes every connection. */
  async drain(): Promise<void> {
    const deadline = performance.now() + this.timeoutMs + 1000;
    while (this.outstanding > 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      this.timeOut(performance.now());
    }
    this.finished = true;
    for (const c of this.conns) {
      c.socket.removeAllListeners('close');
      c.socket.destroy();
    }
    // Anything still waiting never got a connection: an error at the deadline.
    for (let i = this.waitHead; i < this.waiting.length; i++) this.done(this.t0 + this.waiting[i]! * this.interval, undefined);
  }

  result(): StepResult {
    const lat = this.latencies.subarray(0, this.nLat).sort();
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const wall = (this.lastDone || performance.now()) - this.t0;
    return {
      rate: this.o.rate,
      durationMs: this.o.durationMs,
      sent: this.sent,
      ok: this.ok,
      non2xx: this.non2xx,
      statuses: this.statuses,
      errors: this.errors,
      achievedRate: Math.round((this.ok / wall) * 1000),
      p50Ms: r2(percentile(lat as unknown as number[], 50)),
      p90Ms: r2(percentile(lat as unknown as number[], 90)),
      p99Ms: r2(percentile(lat as unknown as number[], 99)),
      maxMs: r2(lat[lat.length - 1] ?? Number.NaN),
      maxBySecondMs: Array.from(this.maxBySecond, (x) => Math.round(x ?? 0)),
    };
  }

  /** A request ended: answered 2xx (true), answered otherwise (false) or failed (undefined). */
  private done(intended: number, good: boolean | undefined, n = -1): void {
    if (good === true && n >= 0 && this.o.accepted) this.o.accepted[n] = 1;
    const now = performance.now();
    const lat = now - intended;
    this.lastDone = now;
    this.outstanding--;
    if (good === true) this.ok++;
    else if (good === false) this.non2xx++;
    else this.errors++;
    if (intended - this.t0 < this.rampMs) return;
    this.latencies[this.nLat++] = lat;
    const sec = Math.floor((intended - this.t0 - this.rampMs) / 1000);
    if (!(lat <= (this.maxBySecond[sec] ?? 0))) this.maxBySecond[sec] = lat;
  }

  private request(c: Conn, n: number): void {
    const body = this.bodies[n % this.bodies.length]!;
    c.busy = true;
    c.n = n;
    c.intended = this.t0 + n * this.interval;
    c.sentAt = performance.now();
    c.socket.write(`${this.head}Idempotency-Key: ${this.o.idPrefix}-${n}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  /** A connection free again: it takes the oldest waiting request, or goes idle. */
  private release(c: Conn): void {
    c.busy = false;
    if (this.waitHead < this.waiting.length) {
      this.request(c, this.waiting[this.waitHead++]!);
      if (this.waitHead > 4096 && this.waitHead * 2 > this.waiting.length) {
        this.waiting.splice(0, this.waitHead);
        this.waitHead = 0;
      }
    } else this.idle.push(c);
  }

  private open(): Conn {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    const c: Conn = { socket, busy: false, n: -1, intended: 0, sentAt: 0, buf: undefined };
    socket.on('data', (chunk: Buffer) => this.answered(c, chunk));
    socket.on('error', () => {});
    socket.on('close', () => this.reopen(c));
    this.conns.push(c);
    return c;
  }

  private answered(c: Conn, chunk: Buffer): void {
    c.buf = c.buf ? Buffer.concat([c.buf, chunk]) : chunk;
    const r = parseResponse(c.buf);
    if (!r || !c.busy) return;
    c.buf = c.buf.length > r.length ? c.buf.subarray(r.length) : undefined;
    const good = r.status >= 200 && r.status < 300;
    if (!good) this.statuses[r.status] = (this.statuses[r.status] ?? 0) + 1;
    this.done(c.intended, good, c.n);
    if (r.close) {
      // answered: the request is done, only the connection goes (not counted again as failed)
      c.busy = false;
      this.reopen(c);
    } else this.release(c);
  }

  /** A connection that closed or timed out: its request (if any) failed; a new connection takes its place. */
  private reopen(c: Conn): void {
    const i = this.conns.indexOf(c);
    if (i < 0) return;
    this.conns.splice(i, 1);
    const j = this.idle.indexOf(c);
    if (j >= 0) this.idle.splice(j, 1);
    c.socket.removeAllListeners('close');
    c.socket.destroy();
    if (c.busy) this.done(c.intended, undefined);
    c.busy = false;
    if (!this.finished) this.release(this.open());
  }

  /** Requests in flight longer than the timeout: their connections are dropped (the requests fail). */
  private timeOut(now: number): void {
    for (const c of [...this.conns]) if (c.busy && now - c.sentAt > this.timeoutMs) this.reopen(c);
  }
}
