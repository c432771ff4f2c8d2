import { DEFAULT_PARTITIONS, DEFAULT_RABBITMQ_BATCH_MAX, queueSpec } from '@tweets/brokers';
import { BROKERS, DOMAIN_NAMES, type Domain } from '@tweets/domain';
import { int, list, loadConfig, oneOf, str, type Env } from '@tweets/runtime';

const common = {
  /** The domain this service runs (read first, by domainFromEnv: it sets the defaults below). */
  DOMAIN: oneOf(DOMAIN_NAMES, { default: 'weather' }),
  /** Which broker this writer publishes to: the same code serves both deployments. */
  BROKER: oneOf(BROKERS),
  GRPC_HOST: str({ default: '127.0.0.1' }),
  GRPC_PORT: int({ default: 50051, min: 1, max: 65535 }),
  /** /metrics (Prometheus), /livez and /readyz over HTTP, on GRPC_HOST. */
  METRICS_PORT: int({ default: 9464, min: 1, max: 65535 }),
  /** How long one publish may wait for the broker's durable ack before the call fails. */
  PUBLISH_TIMEOUT_MS: int({ default: 1000, min: 50, max: 60_000 }),
  /** Tweets waiting for the broker beyond this are refused at once (UNAVAILABLE): memory stays bounded. */
  MAX_PENDING: int({ default: 20_000, min: 1, max: 1_000_000 }),
  /**
   * Connections older than this are asked to go (an HTTP/2 GOAWAY): clients
   * reconnect, re-resolving the writers' name, so replicas added by a scale-up
   * get their share. 0: never (one writer, as locally).
   */
  GRPC_MAX_CONNECTION_AGE_MS: int({ default: 0, min: 0, max: 86_400_000 }),
  /** After that, how long calls and streams already open may go on before the connection is closed. */
  GRPC_MAX_CONNECTION_AGE_GRACE_MS: int({ default: 120_000, min: 0, max: 86_400_000 }),
};

const kafka = (d: Domain) => ({
  KAFKA_BROKERS: list({ default: ['127.0.0.1:19092'] }),
  KAFKA_TOPIC: str({ default: d.broker.topic }),
  KAFKA_PARTITIONS: int({ default: DEFAULT_PARTITIONS, min: 1, max: 1000 }),
  /**
   * How long the first tweet of a batch waits for others (Kafka's linger.ms). 0: a send starts as soon as
   * none is in flight, and tweets that come while one is gather for the next, so light load gets one
   * broker round trip and heavy load still gets large sends; more only trades latency for fewer requests.
   */
  KAFKA_LINGER_MS: int({ default: 0, min: 0, max: 1000 }),
  /** Most tweets in one Kafka send; 1 is the naive one-send-per-tweet baseline. */
  KAFKA_BATCH_MAX: int({ default: 1000, min: 1, max: 100_000 }),
});

const rabbitmq = (d: Domain) => ({
  /** amqp://user:password@host:port, or RABBITMQ_URL_FILE naming a file that holds it. */
  RABBITMQ_URL: str({ secret: true, pattern: /^amqps?:\/\/.+/ }),
  ...queueSpec(d.broker.queue),
  /**
   * batch: the tweets of one call go in one message (a JSON array), up to
   * RABBITMQ_BATCH_MAX each; RabbitMQ's cost is per message (route, store,
   * confirm, deliver, ack), so this is most of its CPU saved. tweet: one
   * message per tweet, for consumers of the queue that expect that.
   */
  RABBITMQ_MESSAGE: oneOf(['batch', 'tweet'] as const, { default: 'batch' }),
  RABBITMQ_BATCH_MAX: int({ default: DEFAULT_RABBITMQ_BATCH_MAX, min: 1, max: 10_000 }),
});

export const secrets = ['RABBITMQ_URL'];

/** Every setting a writer may read, whatever its broker: what a profile may set. */
export const spec = (d: Domain) => ({ ...common, ...kafka(d), ...rabbitmq(d) });

type Common = ReturnType<typeof loadConfig<typeof common>>;
export type KafkaConfig = Common & ReturnType<typeof loadConfig<ReturnType<typeof kafka>>> & { BROKER: 'kafka' };
export type RabbitConfig = Common & ReturnType<typeof loadConfig<ReturnType<typeof rabbitmq>>> & { BROKER: 'rabbitmq' };

/** Reads the common settings and those of the chosen broker only. */
export function readConfig(d: Domain, env: Env = process.env): KafkaConfig | RabbitConfig {
  const broker = env.BROKER;
  if ((broker === 'kafka' || broker === 'rabbitmq') && !d.paths.includes(broker)) {
    throw new Error(`BROKER ${broker} is not a path of the ${d.name} domain (${d.paths.join(', ')})`);
  }
  if (broker === 'kafka') return loadConfig({ ...common, ...kafka(d) }, env) as KafkaConfig;
  if (broker === 'rabbitmq') return loadConfig({ ...common, ...rabbitmq(d) }, env) as RabbitConfig;
  return loadConfig(common, env) as never; // throws: BROKER is missing or wrong
}
