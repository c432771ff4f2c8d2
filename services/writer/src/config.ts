import { int, list, loadConfig, oneOf, str } from '@tweets/kit';
import { DEFAULT_PARTITIONS, DEFAULT_QUEUE, DEFAULT_TOPIC } from '@tweets/brokers';

export const spec = {
  /** Which broker this writer publishes to: the same code serves both deployments. */
  BROKER: oneOf(['kafka', 'rabbitmq'] as const),
  GRPC_HOST: str({ default: '127.0.0.1' }),
  GRPC_PORT: int({ default: 50051, min: 1, max: 65535 }),
  /** How long one publish may wait for the broker's durable ack before the call fails. */
  PUBLISH_TIMEOUT_MS: int({ default: 1000, min: 50, max: 60_000 }),
  KAFKA_BROKERS: list({ default: ['127.0.0.1:19092'] }),
  KAFKA_TOPIC: str({ default: DEFAULT_TOPIC }),
  KAFKA_PARTITIONS: int({ default: DEFAULT_PARTITIONS, min: 1, max: 1000 }),
  RABBITMQ_URL: str({ default: 'amqp://tweets:tweets@127.0.0.1:15673', secret: true }),
  RABBITMQ_QUEUE: str({ default: DEFAULT_QUEUE }),
};

export type Config = ReturnType<typeof readConfig>;
export const readConfig = (env = process.env) => loadConfig(spec, env);
