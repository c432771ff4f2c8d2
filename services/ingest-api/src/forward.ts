import { Pool } from 'undici';
import { Batcher, Histogram, LATENCY_BUCKETS, LatencyWindow, type Logger, type Registry } from '@tweets/runtime';
import type { Item } from '@tweets/domain';

/** What became of one forwarded tweet. */
export type Outcome = { status: 'accepted' } | { status: 'invalid'; detail: string } | { status: 'unavailable'; detail: string };

export interface ForwarderOptions {
  url: string;
  /** The domain's resource: items go to the dispatcher's POST /v1<resource> and /v1<resource>/batch. */
  resource: string;
  /** The batch message's repeated field (`tweets`): the dispatcher's 422 names each bad item by it and its index. */
  batchField: string;
  /** Encodes a batch for POST /v1/tweets/batch (the domain's protobuf batch message). */
  codec: { encodeBatch(items: readonly Item[]): Buffer };
  mode: 'batch' | 'single';
  timeoutMs: number;
  connections: number;
  lingerMs: number;
  maxBatches: number;
  batchMax: number;
  log: Logger;
  /** Where each round trip to the dispatcher is recorded (api_forward_duration_seconds). */
  metrics?: Registry;
}

export interface Forwarder {
  forward(t: Item): Promise<Outcome>;
  /** Requests sent to the dispatcher and tweets in them, since the start. */
  readonly sent: { requests: number; tweets: number };
  /** Round trips of requests to the dispatcher (sent until answered), for the periodic log. */
  readonly latency: LatencyWindow;
  close(): Promise<void>;
}

const ACCEPTED: Outcome = { status: 'accepted' };

type Problem = { detail?: string; errors?: { field: string; reason: string }[] };

/**
 * The outcome of each item of a batch the dispatcher refused with a 422: the items it names
 * (`<batchField>[i].<field>`) are invalid, with their reasons; the others may be sent again.
 */
function refusedBatch(count: number, problem: Problem, batchField: string, detail: string): Outcome[] {
  const invalid = new Map<number, string[]>();
  const named = new RegExp(`^${batchField}\\[(\\d+)\\]\\.(.*)$`);
  for (const e of problem.errors ?? []) {
    const m = named.exec(e.field);
    if (m) invalid.set(Number(m[1]), [...(invalid.get(Number(m[1])) ?? []), `${m[2]} ${e.reason}`]);
  }
  return Array.from({ length: count }, (_, i): Outcome => {
    const why = invalid.get(i);
    return why
      ? { status: 'invalid', detail: why.join('; ') }
      : { status: 'unavailable', detail: `another tweet of its batch was refused (${detail})` };
  });
}

/** The outcome of a request the dispatcher answered (2xx accepted, 422 invalid, else unavailable), per item. */
function answered(count: number, r: { status: number; problem: Problem }, batchField?: string): Outcome[] {
  if (r.status >= 200 && r.status < 300) return new Array<Outcome>(count).fill(ACCEPTED);
  const detail = r.problem.detail ?? `dispatcher answered ${r.status}`;
  if (r.status !== 422) return new Array<Outcome>(count).fill({ status: 'unavailable', detail });
  return batchField === undefined ? [{ status: 'invalid', detail }] : refusedBatch(count, r.problem, batchField, detail);
}

/** Why the dispatcher could not be reached, as the outcome of every item of the request. */
function unreachable(err: unknown, timeoutMs: number, log: Logger): Outcome {
  const e = err as Error & { code?: string };
  const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${timeoutMs} ms` : (e.code ?? e.message);
  log.warn({ why }, 'dispatcher unavailable');
  return { status: 'unavailable', detail: `the dispatcher is unavailable (${why})` };
}

/** Round trips to the dispatcher, for the periodic log and, when served, api_forward_duration_seconds. */
function forwardLatency(registry?: Registry): LatencyWindow {
  return new LatencyWindow(
    4096,
    registry &&
      new Histogram({
        name: 'api_forward_duration_seconds',
        help: 'Time from a batch of tweets sent to the dispatcher to its answer (every routed broker acked, or not)',
        buckets: LATENCY_BUCKETS,
        registers: [registry],
      }),
  );
}

/**
 * Forwards accepted tweets to the dispatcher over pooled keep-alive
 * connections. In batch mode the tweets of one event-loop turn (or of
 * `lingerMs`) go in one POST /v1/tweets/batch; while `maxBatches` are in
 * flight the next one grows, so batches get larger exactly when load is high.
 * Never rejects: every failure is an outcome the API turns into an answer.
 */
export function createForwarder(o: ForwarderOptions): Forwarder {
  const pool = new Pool(o.url, {
    connections: o.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    connectTimeout: Math.min(1000, o.timeoutMs),
  });
  const sent = { requests: 0, tweets: 0 };
  const latency = forwardLatency(o.metrics);
  /** POSTs `count` items; resolves to each one's outcome. */
  async function post(path: string, contentType: string, body: Buffer | string, count: number, batchField?: string): Promise<Outcome[]> {
    sent.requests++;
    sent.tweets += count;
    const t0 = performance.now();
    try {
      const res = await pool.request({
        path,
        method: 'POST',
        headers: { 'content-type': contentType },
        body,
        signal: AbortSignal.timeout(o.timeoutMs),
      });
      if (res.statusCode >= 300)
        return answered(count, { status: res.statusCode, problem: (await res.body.json().catch(() => ({}))) as Problem }, batchField);
      await res.body.dump();
      latency.record(performance.now() - t0);
      return answered(count, { status: res.statusCode, problem: {} });
    } catch (err) {
      return new Array<Outcome>(count).fill(unreachable(err, o.timeoutMs, o.log));
    }
  }
  const sendBatch = (tweets: Item[]) =>
    post(`/v1${o.resource}/batch`, 'application/x-protobuf', o.codec.encodeBatch(tweets), tweets.length, o.batchField);
  const sendOne = async (t: Item) => (await post(`/v1${o.resource}`, 'application/json', JSON.stringify(t), 1))[0]!;
  const batcher = new Batcher<Item, Outcome>(sendBatch, { maxSize: o.batchMax, maxWaitMs: o.lingerMs, maxInFlight: o.maxBatches });
  return {
    forward: (t) => (o.mode === 'batch' ? batcher.add(t) : sendOne(t)),
    sent,
    latency,
    async close() {
      await batcher.drain();
      await pool.close();
    },
  };
}

/** Logs every 10 s what was forwarded: tweets, requests, tweets per request, the round trip to the dispatcher. */
export function logForwarding(forwarder: Forwarder, log: Logger): NodeJS.Timeout {
  let last = { ...forwarder.sent };
  const timer = setInterval(() => {
    const { requests, tweets } = forwarder.sent;
    const roundTrip = forwarder.latency.take();
    if (requests > last.requests) {
      log.info(
        {
          tweets: tweets - last.tweets,
          requests: requests - last.requests,
          perRequest: Math.round(((tweets - last.tweets) / (requests - last.requests)) * 10) / 10,
          roundTrip,
        },
        'forwarded in the last 10 s',
      );
    }
    last = { requests, tweets };
  }, 10_000);
  timer.unref();
  return timer;
}
