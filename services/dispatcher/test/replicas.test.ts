import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { weather, type Item, type Tweet } from '@tweets/domain';
import { protoCodec } from '@tweets/wire/codec';
import { contract } from '@tweets/wire';
import type { Publisher } from '@tweets/writer/publisher';
import { startWriterServer } from '@tweets/writer/server';
import { grpcWriterLink } from '../src/writers.js';

const codec = protoCodec(weather);
const log = pino({ level: 'silent' });
const tweet = (id: string): Tweet => ({ id, municipality: 'mixco', temperature: 21, humidity: 55, weather: 'sunny' });

/**
 * A writer replica on loopback whose broker is a list in memory: acked at once, or after `delayMs(call)`
 * (the call's number from 0).
 */
async function replica(opts: { maxConnectionAgeMs?: number; maxConnectionAgeGraceMs?: number } = {}, delayMs = (_call: number) => 0) {
  const published: string[] = [];
  let calls = 0;
  const publisher: Publisher = {
    broker: 'kafka',
    publish: async (items: readonly Item[]) => {
      const delay = delayMs(calls++);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      published.push(...items.map((t) => t.id));
    },
    ready: () => true,
    close: async () => {},
  };
  const server = await startWriterServer({
    domain: weather,
    publisher,
    host: '127.0.0.1',
    port: 0,
    log,
    idleCloseMs: 1000,
    maxConnectionAgeGraceMs: 10_000,
    ...opts,
  });
  return { published, server };
}

const batchOf = (tag: string, n: number) => codec.encodeBatch(Array.from({ length: n }, (_, i) => tweet(`${tag}-${i}`)));

test('batches spread over every writer replica the target lists, each tweet published once', async () => {
  // A stream stays where it was opened; at the first batches only the replica that connected first
  // may be ready, so the spread comes as streams age out and reopen round-robin.
  const replicas = [await replica(), await replica()];
  const link = grpcWriterLink(contract(weather), `ipv4:${replicas.map((r) => `127.0.0.1:${r.server.port}`).join(',')}`, {
    deadlineMs: 30_000,
    streams: 4,
    streamMaxAgeMs: 100,
  });
  try {
    let sent = 0;
    const until = Date.now() + 30_000; // a bound on a hung channel, not a speed
    while (replicas.some((r) => r.published.length === 0) && Date.now() < until) {
      await Promise.all(Array.from({ length: 8 }, (_, i) => link.stream(batchOf(`b${sent + i}`, 5))));
      sent += 8;
      await new Promise((r) => setTimeout(r, 20));
    }
    const counts = replicas.map((r) => r.published.length);
    for (const [i, n] of counts.entries()) assert.ok(n > 0, `replica ${i} got no batch (${counts.join(', ')})`);
    assert.equal(counts[0]! + counts[1]!, sent * 5, 'every tweet of every batch answered ok was published');
    assert.equal(new Set(replicas.flatMap((r) => r.published)).size, sent * 5, 'no tweet published twice');
  } finally {
    link.close();
    for (const r of replicas) await r.server.stop();
  }
});

test('a replica that comes up later gets streams once the old ones age out, and nothing in flight fails', async () => {
  // The writers' list is fixed here, so the second replica is listed from the start but down:
  // the channel connects to it when it comes up, as it would to a new pod a name resolves to.
  const first = await replica();
  const later = await replica();
  const laterPort = later.server.port;
  await later.server.stop();
  const link = grpcWriterLink(contract(weather), `ipv4:127.0.0.1:${first.server.port},127.0.0.1:${laterPort}`, {
    deadlineMs: 30_000,
    streams: 2,
    streamMaxAgeMs: 200,
  });
  let revived: Awaited<ReturnType<typeof replica>> | undefined;
  try {
    for (let b = 0; b < 10; b++) await link.stream(batchOf(`early${b}`, 3));
    assert.equal(first.published.length, 30, 'with one replica up, it takes every batch');
    revived = await (async () => {
      const published: string[] = [];
      const publisher: Publisher = {
        broker: 'kafka',
        publish: async (items) => void published.push(...items.map((t) => t.id)),
        ready: () => true,
        close: async () => {},
      };
      const server = await startWriterServer({ domain: weather, publisher, host: '127.0.0.1', port: laterPort, log, idleCloseMs: 1000 });
      return { published, server };
    })();
    // Batches keep coming for up to 30 s (a bound, not a speed: the channel retries a down address with backoff).
    const until = Date.now() + 30_000;
    let b = 0;
    while (revived.published.length === 0 && Date.now() < until) {
      await Promise.all([link.stream(batchOf(`late${b}a`, 3)), link.stream(batchOf(`late${b}b`, 3))]);
      b++;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(revived.published.length > 0, 'the replica that came up got batches');
    assert.equal(first.published.length + revived.published.length, 30 + b * 6, 'every batch answered ok was published');
  } finally {
    link.close();
    await first.server.stop();
    await revived?.server.stop();
  }
});

/**
 * A writer that closes each connection 300 ms (±10 %) after it opened and drops it 100 ms later whatever is
 * still on it, and whose first publish takes 800 ms: the first batch's connection is dropped under it.
 */
const slowFirstWriter = () => replica({ maxConnectionAgeMs: 300, maxConnectionAgeGraceMs: 100 }, (call) => (call === 0 ? 800 : 0));

test("a batch whose connection a writer closes under it (its maximum age's grace ran out) is sent again on a new one, within the deadline", async () => {
  const { published, server } = await slowFirstWriter();
  const link = grpcWriterLink(contract(weather), `127.0.0.1:${server.port}`, { deadlineMs: 20_000, streams: 1, streamMaxAgeMs: 10_000 });
  try {
    await link.stream(batchOf('dropped', 4));
    assert.deepEqual(
      [...new Set(published)].sort(),
      Array.from({ length: 4 }, (_, i) => `dropped-${i}`),
      'answered ok: every tweet of the batch published (the first copy too, which the consumers count once)',
    );
  } finally {
    link.close();
    await server.stop();
  }
});

test('a batch whose stream ends without a status as its connection is dropped (INTERNAL, RST_STREAM 0: two streams on the connection) is sent again too', async () => {
  // Two streams on one connection: the first batch's publish outlasts the connection (closed 300 ms after it
  // opened, dropped 100 ms later), the second is answered at once and leaves its stream open on it.
  const { published, server } = await slowFirstWriter();
  const link = grpcWriterLink(contract(weather), `127.0.0.1:${server.port}`, { deadlineMs: 20_000, streams: 2, streamMaxAgeMs: 10_000 });
  try {
    await Promise.all([link.stream(batchOf('slow', 4)), link.stream(batchOf('fast', 4))]);
    for (const b of ['slow', 'fast'])
      assert.deepEqual(
        [...new Set(published.filter((id) => id.startsWith(b)))].sort(),
        Array.from({ length: 4 }, (_, i) => `${b}-${i}`),
        `every tweet of the ${b} batch published`,
      );
  } finally {
    link.close();
    await server.stop();
  }
});
