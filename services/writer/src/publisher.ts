import { createDurableProducer, createRabbitConnection, deadLetterQueue, ensureTopic, queueOptions, TWEET_CONTENT_TYPE } from '@tweets/brokers';
import { Batcher, type Logger } from '@tweets/kit';
import { encodeTweet, type Tweet } from '@tweets/tweet';
import type { KafkaConfig, RabbitConfig } from './config.js';

/** Publishes one tweet and resolves only once the broker holds it durably. */
export interface Publisher {
  readonly broker: 'kafka' | 'rabbitmq';
  publish(t: Tweet): Promise<void>;
  close(): Promise<void>;
}

export class TimeoutError extends Error {}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`${what}: no durable ack within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Kafka: every tweet goes out in a batched send (acks=all), one send in
 * flight at a time; tweets that arrive meanwhile go together in the next.
 * The writer integration test checks that every acknowledged tweet is in
 * the topic, and the chaos test that none is lost across a broker restart.
 */
export async function createKafkaPublisher(cfg: KafkaConfig, log: Logger): Promise<Publisher> {
  const target = { brokers: cfg.KAFKA_BROKERS, clientId: 'writer-kafka' };
  await ensureTopic(target, cfg.KAFKA_TOPIC, cfg.KAFKA_PARTITIONS);
  const producer = createDurableProducer(target, cfg.PUBLISH_TIMEOUT_MS);
  producer.on('client:broker:disconnect', () => log.warn('kafka broker disconnected'));
  const batcher = new Batcher<Tweet, void>(
    async (tweets) => {
      await producer.send({
        messages: tweets.map((t) => ({ topic: cfg.KAFKA_TOPIC, key: Buffer.from(t.id), value: encodeTweet(t) })),
      });
      return tweets.map(() => undefined);
    },
    { maxSize: cfg.KAFKA_BATCH_MAX, maxWaitMs: cfg.KAFKA_LINGER_MS, maxInFlight: 1, maxPending: cfg.MAX_PENDING },
  );
  return {
    broker: 'kafka',
    publish: (t) => withTimeout(batcher.add(t), cfg.PUBLISH_TIMEOUT_MS, 'kafka'),
    async close() {
      await batcher.drain();
      await producer.close();
    },
  };
}

export async function createRabbitPublisher(cfg: RabbitConfig, log: Logger): Promise<Publisher> {
  const rabbit = createRabbitConnection(cfg.RABBITMQ_URL, 'writer-rabbitmq');
  rabbit.on('error', (err) => log.warn({ err: { message: err.message } }, 'rabbitmq connection error'));
  rabbit.on('connection', () => log.info('rabbitmq connected'));
  await withTimeout(rabbit.onConnect(5000, true), 6000, 'rabbitmq connect');
  await rabbit.queueDeclare({ queue: deadLetterQueue(cfg.RABBITMQ_QUEUE), durable: true });
  await rabbit.queueDeclare(queueOptions(cfg.RABBITMQ_QUEUE));
  const publisher = rabbit.createPublisher({ confirm: true, maxAttempts: 1, queues: [queueOptions(cfg.RABBITMQ_QUEUE)] });
  return {
    broker: 'rabbitmq',
    async publish(t) {
      await withTimeout(
        publisher.send({ routingKey: cfg.RABBITMQ_QUEUE, durable: true, messageId: t.id, contentType: TWEET_CONTENT_TYPE }, encodeTweet(t)),
        cfg.PUBLISH_TIMEOUT_MS,
        'rabbitmq',
      );
    },
    async close() {
      await publisher.close();
      await rabbit.close();
    },
  };
}
