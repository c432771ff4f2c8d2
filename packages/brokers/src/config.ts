import { int, oneOf, str } from '@tweets/runtime';
import { QUEUE_TYPES } from './rabbitmq.js';

/** The tweet queue and its declaration: the writer and the consumer read the same settings, so they declare it alike. */
export const queueSpec = (defaultQueue: string) => ({
  RABBITMQ_QUEUE: str({ default: defaultQueue }),
  /** quorum: replicated over the cluster's nodes (one node locally); classic: one node, as before RabbitMQ 4. */
  RABBITMQ_QUEUE_TYPE: oneOf(QUEUE_TYPES, { default: 'quorum' }),
  /** A quorum queue dead-letters a message delivered this many times without an ack (reason delivery_limit). */
  RABBITMQ_DELIVERY_LIMIT: int({ default: 20, min: 1, max: 1000 }),
});
