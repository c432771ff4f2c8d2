/**
 * REST against gRPC between two processes, apart from the pipeline: the same
 * batches of tweets, from this process to a child, over
 *
 *   http-json    HTTP/1.1 + JSON (a JSON array, the brokers' encoding), Fastify and undici as in the services
 *   http-proto   HTTP/1.1 + protobuf (the batch message), as the API sends to the dispatcher
 *   grpc-unary   gRPC, one call per batch (the batch rpc, SendTweets)
 *   grpc-stream  gRPC, batches on one long-lived stream (SendTweetStream), as the dispatcher sends to a writer
 *
 * Every transport's server decodes and checks every tweet (the production codecs) and answers with the count;
 * the gRPC one is the writer's own server over a publisher that acks at once. For each batch size, a closed
 * loop keeps `inFlight` batches in flight. Reported: batches and tweets per second, p50/p99 per batch, and CPU
 * µs per tweet of the client and of the server. npm run bench -- --transport.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { Pool } from 'undici';
import { jsonCodec, validateItem, weather, type Item, type Tweet } from '@tweets/domain';
import { createHttpServer } from '@tweets/http';
import { BatchStream, contract, createWriterClient, sendBatch } from '@tweets/wire';
import { startWriterServer } from '@tweets/writer/server';
import { percentile } from '@tweets/loadgen';
import { sample } from './sampler.js';

export const TRANSPORTS = ['http-json', 'http-proto', 'grpc-unary', 'grpc-stream'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface TransportResult {
  transport: Transport;
  batchSize: number;
  inFlight: number;
  batches: number;
  tweets: number;
  /** Tweets the server decoded, checked and counted: must equal `tweets`. */
  received: number;
  batchesPerSec: number;
  tweetsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU µs per tweet: this process (the client) and the child (the server). */
  clientUsPerTweet: number;
  serverUsPerTweet: number;
}

interface Ports {
  http: number;
  grpc: number;
}

/** The child: an HTTP server with both encodings and the writer's gRPC server; counts what it decoded. */
async function serve(): Promise<void> {
  const log = pino({ level: 'silent' });
  const c = contract(weather);
  let received = 0;
  const app = createHttpServer({ log, bodyLimit: 16 << 20 });
  app.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer', bodyLimit: 16 << 20 }, (_req, body, done) => done(null, body));
  app.post('/json', async (req, reply) => {
    const items = req.body as unknown[];
    for (const t of items) if (!validateItem(weather, t).ok) return reply.code(422).send({ count: 0 });
    received += items.length;
    return { count: items.length };
  });
  app.post('/proto', async (req, reply) => {
    const d = c.codec.decodeBatch(req.body as Buffer);
    if (!d.ok) return reply.code(422).send({ count: 0 });
    received += d.value.length;
    return { count: d.value.length };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const grpcServer = await startWriterServer({
    domain: weather,
    publisher: { broker: 'kafka', ready: () => true, close: async () => {}, publish: async (items) => void (received += items.length) },
    host: '127.0.0.1',
    port: 0,
    log,
    idleCloseMs: 1000,
  });
  process.on('message', (m) => {
    if (m === 'received') process.send!({ received });
  });
  process.send!({ http: (app.server.address() as { port: number }).port, grpc: grpcServer.port } satisfies Ports);
}

/** `n` valid tweets, ids `<prefix>-<offset + i>`: the same fields every run, so runs compare. */
export function batchOf(n: number, offset: number, prefix = 't'): Tweet[] {
  const ms = weather.fields.municipality.values;
  const ws = weather.fields.weather.values;
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${offset + i}`,
    municipality: ms[i % 4]!,
    weather: ws[(i >> 2) % 4]!,
    temperature: 10 + (i % 20),
    humidity: 30 + (i % 60),
  }));
}

/** One way to send a batch, set up once per transport (connections, channels and streams are kept). */
async function sender(
  t: Transport,
  ports: Ports,
  inFlight: number,
): Promise<{ send(items: Tweet[]): Promise<number>; close(): Promise<void> }> {
  const c = contract(weather);
  const json = jsonCodec(weather);
  if (t === 'http-json' || t === 'http-proto') {
    const pool = new Pool(`http://127.0.0.1:${ports.http}`, { connections: inFlight, pipelining: 1, keepAliveTimeout: 30_000 });
    const path = t === 'http-json' ? '/json' : '/proto';
    const type = t === 'http-json' ? 'application/json' : 'application/x-protobuf';
    return {
      async send(items) {
        const body = t === 'http-json' ? json.encodeBatch(items as Item[]) : c.codec.encodeBatch(items);
        const res = await pool.request({ path, method: 'POST', headers: { 'content-type': type }, body });
        const answer = (await res.body.json()) as { count: number };
        if (res.statusCode !== 200) throw new Error(`${t}: ${res.statusCode}`);
        return answer.count;
      },
      close: () => pool.close(),
    };
  }
  const client = createWriterClient(c, `127.0.0.1:${ports.grpc}`);
  if (t === 'grpc-unary') {
    return { send: async (items) => (await sendBatch(c, client, items, 30_000)).count, close: async () => client.close() };
  }
  const stream = new BatchStream(c, client);
  return {
    send: async (items) => (await stream.send(c.codec.encodeBatch(items), 30_000)).count,
    close: async () => {
      stream.close();
      client.close();
    },
  };
}

async function received(child: ReturnType<typeof fork>): Promise<number> {
  const answer = new Promise<number>((resolve) => child.once('message', (m) => resolve((m as { received: number }).received)));
  child.send('received');
  return answer;
}

async function measure(
  child: ReturnType<typeof fork>,
  ports: Ports,
  t: Transport,
  batchSize: number,
  inFlight: number,
  tweets: number,
): Promise<TransportResult> {
  const s = await sender(t, ports, inFlight);
  try {
    // Warm-up: a tenth as many, not measured.
    await loop(s, batchSize, inFlight, Math.max(batchSize, Math.floor(tweets / 10)), 0);
    const before = await received(child);
    const c0 = sample(child.pid!).cpuSec;
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    const lat = await loop(s, batchSize, inFlight, tweets, 1e9);
    const ms = performance.now() - t0;
    const self = process.cpuUsage(u0);
    const server = sample(child.pid!).cpuSec - c0;
    const got = (await received(child)) - before;
    const sent = lat.length * batchSize;
    lat.sort((a, b) => a - b);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return {
      transport: t,
      batchSize,
      inFlight,
      batches: lat.length,
      tweets: sent,
      received: got,
      batchesPerSec: Math.round((lat.length / ms) * 1000),
      tweetsPerSec: Math.round((sent / ms) * 1000),
      p50Ms: r2(percentile(lat, 50)),
      p99Ms: r2(percentile(lat, 99)),
      clientUsPerTweet: r2((self.user + self.system) / sent),
      serverUsPerTweet: r2((server * 1e6) / sent),
    };
  } finally {
    await s.close();
  }
}

/** Closed loop: `inFlight` senders, each sending its next batch when the last is answered, until `tweets` are sent. */
async function loop(s: { send(items: Tweet[]): Promise<number> }, batchSize: number, inFlight: number, tweets: number, offset: number) {
  const lat: number[] = [];
  await inTurn(Math.ceil(tweets / batchSize), inFlight, async (b) => {
    const items = batchOf(batchSize, offset + b * batchSize);
    const t0 = performance.now();
    const n = await s.send(items);
    lat.push(performance.now() - t0);
    if (n !== batchSize) throw new Error(`the server counted ${n} of a batch of ${batchSize}`);
  });
  return lat;
}

/** Runs `f(0)` to `f(n - 1)`, `inFlight` at a time, each started when another ends. */
export async function inTurn(n: number, inFlight: number, f: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await f(next++);
    }),
  );
}

export interface TransportOptions {
  batchSizes: readonly number[];
  inFlight: number;
  /** Tweets per measurement (each transport and batch size). */
  tweets: number;
  transports?: readonly Transport[];
  log?: (m: string) => void;
}

export async function runTransports(o: TransportOptions): Promise<TransportResult[]> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const ports = await new Promise<Ports>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Ports));
      child.once('exit', (code) => reject(new Error(`the transport server exited with ${code}`)));
    });
    const out: TransportResult[] = [];
    for (const batchSize of o.batchSizes) {
      for (const t of o.transports ?? TRANSPORTS) {
        const r = await measure(child, ports, t, batchSize, o.inFlight, o.tweets);
        o.log?.(
          `${t}, batches of ${batchSize}: ${r.tweetsPerSec} tweets/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, CPU µs per tweet: client ${r.clientUsPerTweet}, server ${r.serverUsPerTweet}`,
        );
        out.push(r);
      }
    }
    return out;
  } finally {
    child.kill('SIGTERM');
  }
}

export function transportMarkdown(rs: readonly TransportResult[]): string {
  const rows = rs.map(
    (r) =>
      `| ${r.transport} | ${r.batchSize} | ${r.tweetsPerSec} | ${r.batchesPerSec} | ${r.p50Ms} | ${r.p99Ms} | ${r.clientUsPerTweet} | ${r.serverUsPerTweet} |`,
  );
  return [
    `The same batches between two processes, ${rs[0]?.inFlight ?? 0} in flight, every tweet decoded and checked by the server.`,
    '',
    '| transport | tweets per batch | tweets/s | batches/s | p50 ms | p99 ms | client CPU µs/tweet | server CPU µs/tweet |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--serve')) await serve();
