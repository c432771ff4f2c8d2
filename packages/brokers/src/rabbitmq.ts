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

/** The queue's declaration, the same from the writer and the consumer (a mismatch is a channel error). */
export function queueOptions(queue: string) {
  return { queue, durable: true, arguments: { 'x-queue-type': 'classic' } } as const;
}
