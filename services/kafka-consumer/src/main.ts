import { Consumer, type Message } from '@platformatic/kafka';
import { createDurableProducer, deadLetterTopic, DEFAULT_CONSUMER_GROUP, DEFAULT_PARTITIONS, DEFAULT_TOPIC, ensureTopic, POISON_REASON_HEADER } from '@tweets/brokers';
import { ConfigError, int, list, loadConfig, runService, secretNames, startHealthServer, closeServer, str } from '@tweets/kit';
import { applyUntilDone, connectFromConfig, TweetStore, valkeySpec, type Applied } from '@tweets/store';
import { decodeTweet, formatErrors } from '@tweets/tweet';

const spec = {
  HEALTH_HOST: str({ default: '127.0.0.1' }),
  HEALTH_PORT: int({ default: 8091, min: 1, max: 65535 }),
  KAFKA_BROKERS: list({ default: ['127.0.0.1:19092'] }),
  KAFKA_TOPIC: str({ default: DEFAULT_TOPIC }),
  KAFKA_PARTITIONS: int({ default: DEFAULT_PARTITIONS, min: 1, max: 1000 }),
  KAFKA_GROUP: str({ default: DEFAULT_CONSUMER_GROUP }),
  /**
   * Static group membership (KIP-345): a restarted consumer with the same id takes
   * its partitions back at once instead of waiting out the session timeout. Set it
   * to a stable per-replica name (a StatefulSet pod name); leave it empty otherwise.
   */
  KAFKA_GROUP_INSTANCE_ID: str({ default: '' }),
  /** Most messages applied in one Valkey round trip. */
  BATCH_MAX: int({ default: 500, min: 1, max: 10_000 }),
  /**
   * Offsets of applied batches are committed at most this often (and at stop).
   * A crash redelivers what was applied since the last commit; the per-id
   * dedup in Valkey makes that harmless, and fewer commits cost the broker less.
   */
  COMMIT_INTERVAL_MS: int({ default: 200, min: 0, max: 60_000 }),
  /**
   * A fetch waits for this many bytes or FETCH_MAX_WAIT_MS, whichever comes
   * first: fewer, larger fetches under load, at most that much more latency
   * to the count when idle.
   */
  FETCH_MIN_BYTES: int({ default: 64 * 1024, min: 1, max: 64 * 1024 * 1024 }),
  FETCH_MAX_WAIT_MS: int({ default: 250, min: 0, max: 30_000 }),
  /**
   * Most bytes one fetch returns, over all partitions (the broker still sends
   * one record batch that is larger). It bounds the consumer's memory: a fetch's
   * records are all decoded at once, and after a lag the client's default of
   * 10 MiB (about 100,000 tweets) took the process past 300 MB of RSS.
   */
  FETCH_MAX_BYTES: int({ default: 1024 * 1024, min: 1024, max: 64 * 1024 * 1024 }),
  ...valkeySpec('default'),
};

await runService({
  name: 'kafka-consumer',
  secrets: secretNames(spec),
  async start(log) {
    const cfg = loadConfig(spec);
    if (cfg.FETCH_MIN_BYTES > cfg.FETCH_MAX_BYTES) {
      throw new ConfigError([`FETCH_MIN_BYTES: must not exceed FETCH_MAX_BYTES (${cfg.FETCH_MAX_BYTES}); got ${cfg.FETCH_MIN_BYTES}`]);
    }
    const valkey = connectFromConfig(cfg, 'kafka-consumer', log);
    const store = new TweetStore(valkey, { prefix: cfg.VALKEY_PREFIX });
    const target = { brokers: cfg.KAFKA_BROKERS, clientId: 'kafka-consumer' };
    await ensureTopic(target, cfg.KAFKA_TOPIC, cfg.KAFKA_PARTITIONS);
    const dlqTopic = deadLetterTopic(cfg.KAFKA_TOPIC);
    await ensureTopic(target, dlqTopic, 1);
    // Poison goes to the DLQ before its offset is committed; flushes run one at a time,
    // so this producer never has two sends in flight.
    const dlq = createDurableProducer({ ...target, clientId: 'kafka-consumer-dlq' }, 5000);
    let deadLettered = 0;

    const consumer = new Consumer({
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
    const stream = await consumer.consume({ topics: [cfg.KAFKA_TOPIC], mode: 'committed', fallbackMode: 'earliest', autocommit: false });
    let stopping = false;
    let applied = 0;
    let duplicates = 0;

    /** Applies the batch to Valkey; its offsets are committed with the next commit. */
    async function flush(batch: Message[]): Promise<void> {
      const tweets: Applied[] = [];
      const poison: { m: Message; reason: string }[] = [];
      for (const m of batch) {
        const json = m.value ? m.value.toString('utf8') : '';
        const d = decodeTweet(json);
        if (d.ok) tweets.push({ ...d.value, json });
        else poison.push({ m, reason: formatErrors(d.errors) });
      }
      if (poison.length > 0) {
        await dlq.send({
          messages: poison.map(({ m, reason }) => ({
            topic: dlqTopic,
            key: m.key ?? undefined,
            value: m.value ?? Buffer.alloc(0),
            headers: new Map([
              [Buffer.from(POISON_REASON_HEADER), Buffer.from(reason)],
              [Buffer.from('x-source'), Buffer.from(`${m.topic}/${m.partition}/${m.offset}`)],
            ]),
          })),
        });
        deadLettered += poison.length;
        for (const { m, reason } of poison) log.error({ partition: m.partition, offset: String(m.offset), reason }, 'poison message dead-lettered');
      }
      const results = await applyUntilDone(store, 'kafka', tweets, () => stopping, (err, attempt) =>
        log.warn({ err: { message: err.message }, attempt }, 'valkey write failed; retrying'),
      );
      for (const r of results) r === 1 ? applied++ : duplicates++;
      for (const m of batch) uncommitted.set(m.partition, m.offset + 1n);
      if (Date.now() - lastCommit >= cfg.COMMIT_INTERVAL_MS) await commit();
    }

    /** One OffsetCommit for everything applied since the last: the next offset of every partition touched. */
    const uncommitted = new Map<number, bigint>();
    let lastCommit = 0;
    async function commit(): Promise<void> {
      if (uncommitted.size === 0) return;
      const taken = [...uncommitted];
      uncommitted.clear();
      lastCommit = Date.now();
      try {
        await consumer.commit({ offsets: taken.map(([partition, offset]) => ({ topic: cfg.KAFKA_TOPIC, partition, offset, leaderEpoch: -1 })) });
      } catch (err) {
        // Back for the next commit, unless a later batch of the partition went past them meanwhile.
        for (const [partition, offset] of taken) if (!uncommitted.has(partition)) uncommitted.set(partition, offset);
        throw err;
      }
    }

    const loop = (async () => {
      let batch: Message[] = [];
      for await (const m of stream as AsyncIterable<Message>) {
        batch.push(m);
        if (batch.length >= cfg.BATCH_MAX || stream.readableLength === 0) {
          const b = batch;
          batch = [];
          await flush(b);
        }
      }
    })().catch((err: unknown) => {
      if (!stopping) {
        log.fatal({ err }, 'consume loop failed');
        process.exit(1);
      }
    });

    // When the load stops, what was applied last is committed within an interval too.
    const commitTimer = setInterval(() => {
      if (!stopping && Date.now() - lastCommit >= cfg.COMMIT_INTERVAL_MS) {
        commit().catch((err: Error) => log.warn({ err: { message: err.message } }, 'offset commit failed; retried with the next'));
      }
    }, Math.max(50, cfg.COMMIT_INTERVAL_MS));
    commitTimer.unref();
    const statsTimer = setInterval(() => log.info({ applied, duplicates, deadLettered }, 'progress'), 10_000);
    statsTimer.unref();
    const health = await startHealthServer(cfg.HEALTH_HOST, cfg.HEALTH_PORT, () => !stopping && valkey.status === 'ready' && stream.isConnected());
    return {
      async stop() {
        stopping = true;
        clearInterval(statsTimer);
        clearInterval(commitTimer);
        await stream.close();
        await loop;
        await commit().catch((err: Error) => log.warn({ err: { message: err.message } }, 'last offset commit failed; those messages will be redelivered'));
        await consumer.close();
        await dlq.close();
        valkey.disconnect();
        await closeServer(health);
        log.info({ applied, duplicates, deadLettered }, 'final counts');
      },
    };
  },
});
