/**
 * The floors: what each component the pipeline cannot do without costs per
 * tweet on its own, measured on this machine at a given rate with nothing of
 * ours in between. Their sum bounds what any implementation could sustain
 * here: two cores divided by the CPU a tweet needs at least. That bound is
 * the ceiling the pipeline's own results are set against.
 *
 *   http edge   the bare endpoint (parse JSON, answer 202) and the load generator
 *   rabbitmq    persistent batch messages (as the writer makes them, up to 32 tweets) on a
 *               durable queue, publisher confirms, delivery and ack
 *   kafka       a record produced with acks=all (each send to one partition, as the writer does)
 *               and fetched by a consumer group
 *   valkey      one tweet applied by the apply script (once per path)
 *
 * Each is driven open-loop at the same rate and batch size, with the clients
 * the services use, and only the component's own process is charged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin, Consumer, type Message } from '@platformatic/kafka';
import {
  connectRabbit,
  createDurableProducer,
  DEFAULT_RABBITMQ_BATCH_MAX,
  type ConfirmChannel,
  type ConsumeMessage,
} from '@tweets/brokers';
import { jsonCodec, weather, type Tweet } from '@tweets/domain';
import { readConfig as kafkaConsumerConfig } from '@tweets/kafka-consumer/config';
import { randomItem, rng } from '@tweets/loadgen';
import type { StackLayout } from '@tweets/stack';
import { secrets, secretFile } from '@tweets/stack';
import { aggregateKeys, connectValkey, ItemStore, scanKeys, seenPattern } from '@tweets/store';
import { readFileSync } from 'node:fs';
import type { Redis } from 'iovalkey';
import { sampleTree } from './sampler.js';

export interface FloorOptions {
  rate: number;
  seconds: number;
  /** Tweets per publish, per produce, per apply: about what the pipeline's batches hold at `rate`. */
  batch: number;
}

export interface Floors {
  rate: number;
  batch: number;
  /** How many times each was measured; `us` holds the lowest (absent: once). */
  repeats?: number;
  /** CPU microseconds per tweet. */
  us: { rabbitmq: number; kafka: number; valkey: number };
}

const codec = jsonCodec(weather);

function tweets(n: number, prefix: string, seed: number): Tweet[] {
  const next = rng(seed);
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, ...randomItem(weather, next) }));
}

/** Runs `step(i)` for batches i = 0, 1, ... on an open-loop schedule; at most `inFlight` at once. */
async function paced(o: FloorOptions, step: (i: number) => Promise<void>, inFlight = 8): Promise<number> {
  const batches = Math.floor((o.rate * o.seconds) / o.batch);
  const interval = (1000 * o.batch) / o.rate;
  const t0 = performance.now();
  const running = new Set<Promise<void>>();
  for (let i = 0; i < batches; i++) {
    const wait = t0 + i * interval - performance.now();
    if (wait > 0) await sleep(wait);
    while (running.size >= inFlight) await Promise.race(running);
    const p = step(i).finally(() => running.delete(p));
    running.add(p);
  }
  await Promise.all(running);
  return batches * o.batch;
}

const WARM_SEC = 2;

/** A floor's load: its tweets sent at its pacing; how many it sent. */
type FloorRun = (all: Tweet[], pacing: FloorOptions) => Promise<number>;

/** CPU µs per tweet of `pid` over a run of o.seconds, after one of WARM_SEC warmed up caches, JIT and connections (not charged). */
async function charged(pid: number, o: FloorOptions, name: string, seed: number, run: FloorRun): Promise<number> {
  const once = (seconds: number, prefix: string) => run(tweets(Math.floor(o.rate * seconds), prefix, seed), { ...o, seconds });
  await once(WARM_SEC, `${name}w`);
  const c0 = sampleTree(pid).cpuSec;
  const n = await once(o.seconds, name);
  return Math.round(((sampleTree(pid).cpuSec - c0) / n) * 1e6 * 10) / 10;
}

async function valkeyFloor(l: StackLayout, pid: number, o: FloorOptions): Promise<number> {
  const s = secrets(l);
  const redis = connectValkey(
    { host: '127.0.0.1', port: l.ports.valkey, username: 'writer', password: s.valkeyWriterPassword, name: 'bench-floor' },
    () => {},
  );
  await new Promise((r) => redis.once('ready', r));
  const prefix = `floor${Date.now().toString(36)}`;
  const store = new ItemStore(weather, redis, { prefix, dedupWindowSec: 120 });
  try {
    return await charged(pid, o, 'f', 7, (all, pacing) =>
      paced(pacing, async (i) => void (await store.applyBatch('kafka', all.slice(i * o.batch, (i + 1) * o.batch)))),
    );
  } finally {
    await cleanFloorKeys(redis, prefix).finally(() => redis.disconnect());
  }
}

/** Removes the keys the Valkey floor wrote. */
async function cleanFloorKeys(redis: Redis, prefix: string): Promise<void> {
  await redis.del(...aggregateKeys(weather, prefix, 'kafka'), ...(await scanKeys(redis, seenPattern(prefix, 'kafka'))));
}

async function rabbitFloor(l: StackLayout, pid: number, o: FloorOptions): Promise<number> {
  const url = readFileSync(secretFile(l, 'rabbitmq-url'), 'utf8').trim();
  const queue = `bench-floor-${Date.now().toString(36)}`;
  let delivered = 0;
  let pending: ConsumeMessage[] = [];
  let cleanup: (() => void) | undefined;
  const publishers: ConfirmChannel[] = [];
  const conn = await connectRabbit({
    url,
    name: 'bench-floor',
    async setup(model) {
      const pub = await model.createConfirmChannel();
      const sub = await model.createChannel();
      // the kind of queue the pipeline uses (a quorum queue)
      await pub.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await sub.prefetch(1000);
      await sub.consume(queue, (m) => {
        if (!m) return;
        delivered++;
        pending.push(m);
        if (pending.length === 1) {
          setImmediate(() => {
            sub.ack(pending[pending.length - 1]!, true);
            pending = [];
          });
        }
      });
      cleanup = () => void pub.deleteQueue(queue).catch(() => {});
      publishers.push(pub);
    },
  });
  try {
    return await charged(pid, o, 'r', 11, async (all, pacing) => {
      // Each step's tweets in messages of up to 32, as the writer sends a call's tweets.
      const steps: ReturnType<typeof codec.encodeBatches>[] = [];
      for (let i = 0; i + o.batch <= all.length; i += o.batch)
        steps.push(codec.encodeBatches(all.slice(i, i + o.batch), DEFAULT_RABBITMQ_BATCH_MAX));
      const start = delivered;
      let messages = 0;
      const n = await paced(pacing, (i) => {
        const ch = publishers[0]!;
        const step = steps[i]!;
        messages += step.length;
        return new Promise<void>((resolve, reject) => {
          let left = step.length;
          for (const m of step) {
            ch.publish(
              '',
              queue,
              m.body,
              { persistent: true, messageId: m.messageId, contentType: weather.broker.batchContentType },
              (err: unknown) => (err ? reject(err as Error) : --left === 0 && resolve()),
            );
          }
        });
      });
      for (let k = 0; k < 200 && delivered - start < messages; k++) await sleep(25);
      return n;
    });
  } finally {
    cleanup?.();
    await sleep(100);
    await conn.close();
  }
}

async function kafkaFloor(l: StackLayout, pid: number, o: FloorOptions): Promise<number> {
  const brokers = [`127.0.0.1:${l.ports.kafka}`];
  const topic = `bench-floor-${Date.now().toString(36)}`;
  const admin = new Admin({ clientId: 'bench-floor', bootstrapBrokers: brokers });
  await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 });
  const producer = createDurableProducer({ brokers, clientId: 'bench-floor' }, 5000);
  // The consumer as the kafka-consumer service runs it, with its default settings: fetch size and wait, commit interval.
  const kc = kafkaConsumerConfig(weather, {});
  const consumer = new Consumer({
    clientId: 'bench-floor',
    groupId: topic,
    bootstrapBrokers: brokers,
    autocommit: false,
    minBytes: kc.FETCH_MIN_BYTES,
    maxBytes: kc.FETCH_MAX_BYTES,
    maxBytesPerPartition: kc.FETCH_MAX_BYTES,
    maxWaitTime: kc.FETCH_MAX_WAIT_MS,
  });
  const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
  let fetched = 0;
  const reading = (async () => {
    const next = new Map<number, bigint>();
    let last = 0;
    for await (const m of stream as AsyncIterable<Message>) {
      fetched++;
      next.set(m.partition, m.offset + 1n);
      if (stream.readableLength === 0 && Date.now() - last >= kc.COMMIT_INTERVAL_MS) {
        last = Date.now();
        const offsets = [...next].map(([partition, offset]) => ({ topic, partition, offset, leaderEpoch: -1 }));
        next.clear();
        await consumer.commit({ offsets });
      }
    }
  })().catch(() => {});
  await sleep(1000);
  try {
    return await charged(pid, o, 'k', 13, async (all, pacing) => {
      const start = fetched;
      const n = await paced(
        pacing,
        async (i) =>
          void (await producer.send({
            // one partition per send, the next send the next one, as the writer does
            messages: all
              .slice(i * o.batch, (i + 1) * o.batch)
              .map((t) => ({ topic, partition: i, key: Buffer.from(t.id), value: codec.encode(t) })),
          })),
        1,
      );
      for (let k = 0; k < 200 && fetched - start < n; k++) await sleep(25);
      return n;
    });
  } finally {
    await stream.close().catch(() => {});
    await reading;
    await consumer.close().catch(() => {});
    await producer.close().catch(() => {});
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.close().catch(() => {});
  }
}

/** Measures each broker's floor, one after the other, on a running stack. */
export async function measureFloors(l: StackLayout, pids: Record<string, number>, o: FloorOptions): Promise<Floors> {
  const need = (n: string) => {
    const p = pids[n];
    if (!p) throw new Error(`${n} is not running`);
    return p;
  };
  const rabbitmq = await rabbitFloor(l, need('rabbitmq'), o);
  const kafka = await kafkaFloor(l, need('kafka'), o);
  const valkey = await valkeyFloor(l, need('valkey'), o);
  return { rate: o.rate, batch: o.batch, us: { rabbitmq, kafka, valkey } };
}
