import { DEFAULT_PARTITIONS } from '@tweets/brokers';
import { DOMAIN_NAMES, type Domain } from '@tweets/domain';
import { ConfigError, int, list, loadConfig, oneOf, str, type ConfigOf, type Env } from '@tweets/runtime';
import { dedupSpec, replicationSpec, valkeySpec } from '@tweets/store';

export function spec(d: Domain) {
  return {
    /** The domain this service runs (read first, by domainFromEnv: it sets the defaults below). */
    DOMAIN: oneOf(DOMAIN_NAMES, { default: 'weather' }),
    HEALTH_HOST: str({ default: '127.0.0.1' }),
    HEALTH_PORT: int({ default: 8091, min: 1, max: 65535 }),
    KAFKA_BROKERS: list({ default: ['127.0.0.1:19092'] }),
    KAFKA_TOPIC: str({ default: d.broker.topic }),
    KAFKA_PARTITIONS: int({ default: DEFAULT_PARTITIONS, min: 1, max: 1000 }),
    KAFKA_GROUP: str({ default: d.broker.consumerGroup }),
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
    ...valkeySpec('default', d.keyPrefix),
    ...dedupSpec(),
    ...replicationSpec(),
  };
}

export type KafkaConsumerConfig = ConfigOf<ReturnType<typeof spec>>;

export function readConfig(d: Domain, env: Env = process.env): KafkaConsumerConfig {
  const cfg = loadConfig(spec(d), env);
  if (cfg.FETCH_MIN_BYTES > cfg.FETCH_MAX_BYTES) {
    throw new ConfigError([`FETCH_MIN_BYTES: must not exceed FETCH_MAX_BYTES (${cfg.FETCH_MAX_BYTES}); got ${cfg.FETCH_MIN_BYTES}`]);
  }
  return cfg;
}
