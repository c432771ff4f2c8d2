import { queueSpec } from '@tweets/brokers';
import { DOMAIN_NAMES, type Domain } from '@tweets/domain';
import { int, loadConfig, oneOf, str, type ConfigOf, type Env } from '@tweets/runtime';
import { dedupSpec, replicationSpec, valkeySpec } from '@tweets/store';

export function spec(d: Domain) {
  return {
    /** The domain this service runs (read first, by domainFromEnv: it sets the defaults below). */
    DOMAIN: oneOf(DOMAIN_NAMES, { default: 'weather' }),
    HEALTH_HOST: str({ default: '127.0.0.1' }),
    HEALTH_PORT: int({ default: 8092, min: 1, max: 65535 }),
    /** amqp://user:password@host:port, or RABBITMQ_URL_FILE naming a file that holds it. */
    RABBITMQ_URL: str({ secret: true, pattern: /^amqps?:\/\/.+/ }),
    ...queueSpec(d.broker.queue),
    /** Unacked messages the broker may hand over at once; batches are taken from them. */
    PREFETCH: int({ default: 1000, min: 1, max: 65_535 }),
    /** Most messages taken in one batch and acked with one multiple-ack, and most items applied to Valkey in one round trip. */
    BATCH_MAX: int({ default: 500, min: 1, max: 10_000 }),
    /**
     * How long a batch short of BATCH_MAX waits for more deliveries. Counting is
     * asynchronous to the API's answers, so a few milliseconds here cost no
     * client latency and make batches, Valkey writes and acks fewer and larger.
     */
    BATCH_LINGER_MS: int({ default: 10, min: 0, max: 1000 }),
    ...valkeySpec('default', d.keyPrefix),
    ...dedupSpec(),
    ...replicationSpec(),
  };
}

export type RabbitConsumerConfig = ConfigOf<ReturnType<typeof spec>>;

export const readConfig = (d: Domain, env: Env = process.env): RabbitConsumerConfig => loadConfig(spec(d), env);
