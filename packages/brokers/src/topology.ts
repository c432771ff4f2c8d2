/**
 * Where tweets travel through the brokers. Writers and consumers take these
 * names from their config, defaulting to these values, so one deployment can
 * run a second domain (Black Friday) beside the first with other names.
 */
export const DEFAULT_TOPIC = 'weather-tweets';
/** At least the number of Kafka consumer replicas we plan for (HPA up to 6). */
export const DEFAULT_PARTITIONS = 6;
export const DEFAULT_QUEUE = 'weather-tweets';
export const DEFAULT_CONSUMER_GROUP = 'weather-tweets-valkey';

/** Where a consumer puts a message it cannot decode or apply, with the reason in a header. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** The header that carries why a message was dead-lettered (both brokers). */
export const POISON_REASON_HEADER = 'x-poison-reason';
