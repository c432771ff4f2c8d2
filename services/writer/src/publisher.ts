import { createDurableProducer, createRabbitConnection, ensureTopic, queueOptions } from '@tweets/brokers';
import type { Logger } from '@tweets/kit';
import { encodeTweet, type Tweet } from '@tweets/tweet';
import type { Config } from './config.js';

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

export async function createKafkaPublisher(cfg: Config, log: Logger): Promise<Publisher> {
  const target = { brokers: cfg.KAFKA_BROKERS, clientId: 'writer-kafka' };
  await ensureTopic(target, cfg.KAFKA_TOPIC, cfg.KAFKA_PARTITIONS);
  const producer = createDurableProducer(target, cfg.PUBLISH_TIMEOUT_MS);
  producer.on('client:broker:disconnect', (e: unknown) => log.warn({ e }, 'kafka broker disconnected'));
  return {
    broker: 'kafka',
    async publish(t) {
      await withTimeout(
        producer.send({ messages: [{ topic: cfg.KAFKA_TOPIC, key: Buffer.from(t.id), value: encodeTweet(t) }] }),
        cfg.PUBLISH_TIMEOUT_MS,
        'kafka',
      );
    },
    close: () => producer.close(),
  };
}

export async function createRabbitPublisher(cfg: Config, log: Logger): Promise<Publisher> {
  const rabbit = createRabbitConnection(cfg.RABBITMQ_URL, 'writer-rabbitmq');
  rabbit.on('error', (err) => log.warn({ err: { message: err.message } }, 'rabbitmq connection error'));
  rabbit.on('connection', () => log.info('rabbitmq connected'));
  await withTimeout(rabbit.onConnect(5000, true), 6000, 'rabbitmq connect');
  await rabbit.queueDeclare(queueOptions(cfg.RABBITMQ_QUEUE));
  const publisher = rabbit.createPublisher({ confirm: true, maxAttempts: 1, queues: [queueOptions(cfg.RABBITMQ_QUEUE)] });
  return {
    broker: 'rabbitmq',
    async publish(t) {
      await withTimeout(
        publisher.send({ routingKey: cfg.RABBITMQ_QUEUE, durable: true, messageId: t.id, contentType: 'application/json' }, encodeTweet(t)),
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
