import { Connection } from 'rabbitmq-client';

/** A long-lived connection that reconnects by itself; the caller logs its errors. */
export function createRabbitConnection(url: string, name: string): Connection {
  return new Connection({
    url,
    connectionName: name,
    connectionTimeout: 3000,
    acquireTimeout: 2000,
    retryLow: 200,
    retryHigh: 2000,
  });
}

/** Where messages a consumer cannot decode or apply go, with RabbitMQ's x-death record of why. */
export function deadLetterQueue(queue: string): string {
  return `${queue}.dlq`;
}

/**
 * The queue's declaration, the same from the writer and the consumer (a
 * mismatch is a channel error): durable, and dead-lettering rejected
 * messages to the DLQ instead of discarding them.
 */
export function queueOptions(queue: string) {
  return {
    queue,
    durable: true,
    arguments: {
      'x-queue-type': 'classic',
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': deadLetterQueue(queue),
    },
  } as const;
}

/** The broker message's content type. Not application/json, which client libraries decode on their own. */
export const TWEET_CONTENT_TYPE = 'application/vnd.weather-tweet.v1+json';
