import { BROKERS, weather, type BrokerPath } from '@tweets/domain';
import { spec as dispatcherSpec } from '@tweets/dispatcher/config';
import { spec as apiSpec } from '@tweets/ingest-api/config';
import { spec as kafkaConsumerSpec } from '@tweets/kafka-consumer/config';
import { spec as rabbitConsumerSpec } from '@tweets/rabbitmq-consumer/config';
import { spec as writerSpec } from '@tweets/writer/config';

type Settings<S> = Partial<Record<keyof S & string, string>>;

/** The settings of each service the stack runs, typed from the service's own config spec. */
export interface ServiceSettings {
  'ingest-api': Settings<ReturnType<typeof apiSpec>>;
  dispatcher: Settings<typeof dispatcherSpec>;
  'writer-kafka': Settings<ReturnType<typeof writerSpec>>;
  'writer-rabbitmq': Settings<ReturnType<typeof writerSpec>>;
  'kafka-consumer': Settings<ReturnType<typeof kafkaConsumerSpec>>;
  'rabbitmq-consumer': Settings<ReturnType<typeof rabbitConsumerSpec>>;
}
export type ServiceName = keyof ServiceSettings;
export type Overrides = { [K in ServiceName]?: ServiceSettings[K] };

/** The name the stack runs a path's writer under. */
export const writerName = (path: BrokerPath) => `writer-${path}` as const;

/** Every setting each service reads: what an override may name. */
export const SETTINGS: Record<ServiceName, readonly string[]> = {
  'ingest-api': Object.keys(apiSpec(weather)),
  dispatcher: Object.keys(dispatcherSpec),
  ...(Object.fromEntries(BROKERS.map((p) => [writerName(p), Object.keys(writerSpec(weather))])) as Record<
    `writer-${BrokerPath}`,
    string[]
  >),
  'kafka-consumer': Object.keys(kafkaConsumerSpec(weather)),
  'rabbitmq-consumer': Object.keys(rabbitConsumerSpec(weather)),
};

/**
 * Named, typed configurations of the services. `default` is what the services
 * do by themselves; `naive` is the benchmark's stand-in for the
 * implementations we compare with: one request, one call and one broker round
 * trip per item at every hop; `classicQueue` RabbitMQ's classic queue instead of the quorum queue.
 */
export const PROFILES = {
  default: {},
  naive: {
    'ingest-api': { FORWARD_MODE: 'single' },
    dispatcher: { DISPATCH_MODE: 'unary' },
    'writer-kafka': { KAFKA_BATCH_MAX: '1', KAFKA_LINGER_MS: '0' },
    'writer-rabbitmq': { RABBITMQ_MESSAGE: 'tweet' },
    'kafka-consumer': { BATCH_MAX: '1' },
    'rabbitmq-consumer': { BATCH_MAX: '1' },
  },
  /** RabbitMQ's tweet queue as a classic queue (one node's), to compare with the quorum queue: a queue of its own name. */
  classicQueue: {
    'writer-rabbitmq': { RABBITMQ_QUEUE_TYPE: 'classic', RABBITMQ_QUEUE: 'weather-tweets-classic' },
    'rabbitmq-consumer': { RABBITMQ_QUEUE_TYPE: 'classic', RABBITMQ_QUEUE: 'weather-tweets-classic' },
  },
} as const satisfies Record<string, Overrides>;

export type Profile = keyof typeof PROFILES;

/**
 * Checks overrides (a profile, or STACK_ENV's tuning settings) against what
 * the services read: an unknown service or a setting no service reads is an
 * error naming each, never silence (a renamed setting would stop applying).
 */
export function checkOverrides(o: Record<string, Record<string, string>>, where: string): Overrides {
  const problems: string[] = [];
  for (const [service, settings] of Object.entries(o)) {
    const known = SETTINGS[service as ServiceName];
    if (!known) {
      problems.push(`${service}: no such service (one of ${Object.keys(SETTINGS).join(', ')})`);
      continue;
    }
    for (const name of Object.keys(settings)) if (!known.includes(name)) problems.push(`${service}.${name}: no such setting`);
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
  return o as Overrides;
}
