import { Consumer, type Message } from '@platformatic/kafka';
import { createDurableProducer, deadLetterTopic, ensureTopic, POISON_REASON_HEADER } from '@tweets/brokers';
import { createConsumerCore, type AdapterContext, type Delivery, type Poison, type RunningConsumer } from '@tweets/consumer';
import type { Domain } from '@tweets/domain';
import type { KafkaConsumerConfig } from './config.js';

type Producer = ReturnType<typeof createDurableProducer>;

/** Poison to the dead-letter topic, with its reason and where it came from; resolves once the broker has it. */
async function deadLetter(dlq: Producer, dlqTopic: string, poison: Poison<Message>[]): Promise<void> {
  await dlq.send({
    messages: poison.map(({ body, reason, delivery: { ref: m } }) => ({
      topic: dlqTopic,
      key: m.key ?? undefined,
      value: body,
      headers: new Map([
        [Buffer.from(POISON_REASON_HEADER), Buffer.from(reason)],
        [Buffer.from('x-source'), Buffer.from(`${m.topic}/${m.partition}/${m.offset}`)],
      ]),
    })),
  });
}

/** The group's consumer: offsets committed by hand, fetches sized by the settings, broker restarts ridden out. */
function groupConsumer(cfg: KafkaConsumerConfig): Consumer {
  return new Consumer({
    clientId: 'kafka-consumer',
    groupId: cfg.KAFKA_GROUP,
    bootstrapBrokers: cfg.KAFKA_BROKERS,
    autocommit: false,
    minBytes: cfg.FETCH_MIN_BYTES,
    maxBytes: cfg.FETCH_MAX_BYTES,
    maxBytesPerPartition: cfg.FETCH_MAX_BYTES,
    maxWaitTime: cfg.FETCH_MAX_WAIT_MS,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    ...(cfg.KAFKA_GROUP_INSTANCE_ID ? { groupInstanceId: cfg.KAFKA_GROUP_INSTANCE_ID } : {}),
    timeout: 5_000,
    // Rides out a broker restart (about 5-10 s) without losing its group membership.
    retries: 40,
    retryDelay: 500,
  });
}

/** The offsets applied and not yet committed; one OffsetCommit takes the next offset of every partition touched. */
function createCommitter(consumer: Consumer, topic: string) {
  const uncommitted = new Map<number, bigint>();
  let last = 0;
  return {
    sinceLastMs: () => Date.now() - last,
    applied(batch: readonly Message[]): void {
      for (const m of batch) uncommitted.set(m.partition, m.offset + 1n);
    },
    async commit(): Promise<void> {
      if (uncommitted.size === 0) return;
      const taken = [...uncommitted];
      uncommitted.clear();
      last = Date.now();
      try {
        await consumer.commit({ offsets: taken.map(([partition, offset]) => ({ topic, partition, offset, leaderEpoch: -1 })) });
      } catch (err) {
        // Back for the next commit, unless a later batch of the partition went past them meanwhile.
        for (const [partition, offset] of taken) if (!uncommitted.has(partition)) uncommitted.set(partition, offset);
        throw err;
      }
    },
  };
}

/** Gathers fetched messages into batches of up to `max`, or what one fetch brought, and hands each to `flush`. */
async function consumeInBatches(
  stream: AsyncIterable<Message> & { readableLength: number },
  max: number,
  flush: (b: Message[]) => Promise<void>,
) {
  let batch: Message[] = [];
  for await (const m of stream) {
    batch.push(m);
    if (batch.length >= max || stream.readableLength === 0) {
      const b = batch;
      batch = [];
      await flush(b);
    }
  }
}

/**
 * The Kafka adapter around the consumer core: a consumer group fetches
 * batches, the core applies them, and their offsets are committed after the
 * Valkey write (at most every COMMIT_INTERVAL_MS, and at stop). Poison goes to
 * `<topic>.dlq` with its reason and source before its offset is committed.
 */
export async function startKafkaConsumer<D extends Domain>(cfg: KafkaConsumerConfig, ctx: AdapterContext<D>): Promise<RunningConsumer> {
  const target = { brokers: cfg.KAFKA_BROKERS, clientId: 'kafka-consumer' };
  await ensureTopic(target, cfg.KAFKA_TOPIC, cfg.KAFKA_PARTITIONS);
  const dlqTopic = deadLetterTopic(cfg.KAFKA_TOPIC);
  await ensureTopic(target, dlqTopic, 1);
  // Batches are handled one at a time, so this producer never has two sends in flight.
  const dlq = createDurableProducer({ ...target, clientId: 'kafka-consumer-dlq' }, 5000);
  let stopping = false;
  const { log } = ctx;
  const core = createConsumerCore<D, Message>({
    ...ctx,
    path: 'kafka',
    batchMax: cfg.BATCH_MAX,
    stopping: () => stopping,
    deadLetter: (poison) => deadLetter(dlq, dlqTopic, poison),
  });
  const consumer = groupConsumer(cfg);
  const stream = await consumer.consume({ topics: [cfg.KAFKA_TOPIC], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
  const offsets = createCommitter(consumer, cfg.KAFKA_TOPIC);
  const due = () => offsets.sinceLastMs() >= cfg.COMMIT_INTERVAL_MS;
  /** Applies the batch; its offsets are committed with the next commit. */
  const flush = async (batch: Message[]) => {
    await core.handle(batch.map((m): Delivery<Message> => ({ body: m.value ?? Buffer.alloc(0), ref: m })));
    offsets.applied(batch);
    if (due()) await offsets.commit();
  };
  const loop = consumeInBatches(stream as typeof stream & AsyncIterable<Message>, cfg.BATCH_MAX, flush).catch((err: unknown) => {
    if (stopping) return;
    log.fatal({ err }, 'consume loop failed');
    process.exit(1);
  });
  // When the load stops, what was applied last is committed within an interval too.
  const commitTimer = setInterval(
    () => {
      if (!stopping && due())
        offsets.commit().catch((err: Error) => log.warn({ err: { message: err.message } }, 'offset commit failed; retried with the next'));
    },
    Math.max(50, cfg.COMMIT_INTERVAL_MS),
  );
  commitTimer.unref();
  return {
    counts: core.counts,
    store: core.store,
    ready: () => !stopping && stream.isConnected(),
    async stop() {
      stopping = true;
      clearInterval(commitTimer);
      await stream.close();
      await loop;
      await offsets
        .commit()
        .catch((err: Error) =>
          log.warn({ err: { message: err.message } }, 'last offset commit failed; those messages will be redelivered'),
        );
      await consumer.close();
      await dlq.close();
    },
  };
}
