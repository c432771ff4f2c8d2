import { connectRabbit, createDurableProducer, declareQueues, ensureTopic, type ConfirmChannel } from '@tweets/brokers';
import { jsonCodec, type BrokerPath, type Domain, type Item, type JsonCodec } from '@tweets/domain';
import { Batcher, type Logger } from '@tweets/runtime';
import type { KafkaConfig, RabbitConfig } from './config.js';

/** Publishes items and resolves only once the broker holds every one of them durably. */
export interface Publisher {
  readonly broker: BrokerPath;
  publish(items: readonly Item[]): Promise<void>;
  ready(): boolean;
  close(): Promise<void>;
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no durable ack within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Kafka: tweets go out in batched sends (acks=all), one send in flight at a
 * time; tweets that arrive meanwhile, from any number of calls, go together
 * in the next. The writer integration test checks that every acknowledged
 * tweet is in the topic, and the chaos test that none is lost across a
 * broker restart.
 */
export async function createKafkaPublisher(cfg: KafkaConfig, domain: Domain, log: Logger): Promise<Publisher> {
  const codec = jsonCodec(domain);
  const target = { brokers: cfg.KAFKA_BROKERS, clientId: 'writer-kafka' };
  await ensureTopic(target, cfg.KAFKA_TOPIC, cfg.KAFKA_PARTITIONS);
  const producer = createDurableProducer(target, cfg.PUBLISH_TIMEOUT_MS);
  producer.on('client:broker:disconnect', () => log.warn('kafka broker disconnected'));
  // Each send goes whole to one partition, the next send to the next one: the broker appends one
  // record batch per send instead of one per partition the ids hash to, which at light load (a few
  // tweets a send) was most of its CPU. The client takes the number modulo the topic's partitions.
  let partition = 0;
  const batcher = new Batcher<Item, void>(
    async (tweets) => {
      partition = (partition + 1) & 0x7fffffff;
      await producer.send({
        messages: tweets.map((t) => ({ topic: cfg.KAFKA_TOPIC, partition, key: Buffer.from(t.id), value: codec.encode(t) })),
      });
      return new Array<void>(tweets.length);
    },
    { maxSize: cfg.KAFKA_BATCH_MAX, maxWaitMs: cfg.KAFKA_LINGER_MS, maxInFlight: 1, maxPending: cfg.MAX_PENDING },
  );
  return {
    broker: 'kafka',
    publish: (tweets) =>
      withTimeout(
        batcher.addAll(tweets).then(() => undefined),
        cfg.PUBLISH_TIMEOUT_MS,
        'kafka',
      ),
    // The producer connects on demand, at the next send: a writer that stopped
    // serving while the broker was away would never get a send to find it back.
    ready: () => true,
    async close() {
      await batcher.drain();
      await producer.close();
    },
  };
}

type Message = { body: Buffer; contentType: string; messageId: string; count: number };

/** The messages for a call's tweets: one per tweet (RABBITMQ_MESSAGE=tweet) or batches of up to RABBITMQ_BATCH_MAX. */
function messages(cfg: RabbitConfig, codec: JsonCodec<Domain>, domain: Domain, tweets: readonly Item[]): Message[] {
  const { contentType, batchContentType } = domain.broker;
  if (cfg.RABBITMQ_MESSAGE === 'tweet') return tweets.map((t) => ({ body: codec.encode(t), contentType, messageId: t.id, count: 1 }));
  return codec.encodeBatches(tweets, cfg.RABBITMQ_BATCH_MAX).map((m) => ({ ...m, contentType: batchContentType }));
}

/**
 * Writes every message to the socket at once, persistent; resolves when the broker has confirmed them all,
 * rejects at the first nack or error. `confirms.pending` counts the tweets waiting for a confirm.
 */
function publishConfirmed(ch: ConfirmChannel, queue: string, msgs: Message[], confirms: { pending: number }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let left = msgs.length;
    let failed = false;
    const confirmed = (count: number) => (err: unknown) => {
      confirms.pending -= count;
      if (err) {
        if (!failed) reject(err instanceof Error ? err : new Error(String(err)));
        failed = true;
      } else if (--left === 0 && !failed) resolve();
    };
    for (const m of msgs) {
      confirms.pending += m.count;
      try {
        ch.publish('', queue, m.body, { persistent: true, messageId: m.messageId, contentType: m.contentType }, confirmed(m.count));
      } catch (err) {
        // The channel closed under us: its close fails every callback already registered.
        confirms.pending -= m.count;
        failed = true;
        reject(err as Error);
        return;
      }
    }
  });
}

/**
 * RabbitMQ: persistent messages on a confirm channel. A call's tweets go in
 * messages of up to RABBITMQ_BATCH_MAX tweets each (RABBITMQ_MESSAGE=batch)
 * or one message per tweet, all written to the socket at once; the call
 * resolves when the broker has confirmed every message (it confirms
 * persistent messages once they are on disk, many at a time). While the
 * connection is down, calls fail at once.
 */
export async function createRabbitPublisher(cfg: RabbitConfig, domain: Domain, log: Logger): Promise<Publisher> {
  const codec = jsonCodec(domain);
  let channel: ConfirmChannel | undefined;
  let closing = false;
  const confirms = { pending: 0 };
  const conn = await connectRabbit({
    url: cfg.RABBITMQ_URL,
    name: 'writer-rabbitmq',
    async setup(model) {
      const ch = await model.createConfirmChannel();
      await declareQueues(ch, cfg);
      ch.on('error', (err: Error) => log.warn({ err: { message: err.message } }, 'rabbitmq channel error'));
      ch.on('close', () => {
        if (channel !== ch) return;
        channel = undefined;
        // A channel the broker closed on a live connection: reconnect to get a new one.
        if (!closing) void model.close().catch(() => {});
      });
      channel = ch;
    },
    onEvent: (event, detail) => (event === 'connected' ? log.info('rabbitmq connected') : log.warn({ detail }, `rabbitmq ${event}`)),
  });

  return {
    broker: 'rabbitmq',
    publish(tweets) {
      if (tweets.length === 0) return Promise.resolve();
      if (!channel) return Promise.reject(new Error('rabbitmq is not connected'));
      if (confirms.pending + tweets.length > cfg.MAX_PENDING)
        return Promise.reject(new Error(`${confirms.pending} tweets already wait for confirms`));
      const sent = publishConfirmed(channel, cfg.RABBITMQ_QUEUE, messages(cfg, codec, domain, tweets), confirms);
      return withTimeout(sent, cfg.PUBLISH_TIMEOUT_MS, 'rabbitmq');
    },
    ready: () => channel !== undefined,
    async close() {
      closing = true;
      if (channel) await channel.waitForConfirms().catch(() => {});
      await conn.close();
    },
  };
}
