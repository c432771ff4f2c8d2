/**
 * Where items travel through the brokers: the topic, queue and consumer group
 * are the domain's (its definition's `broker`), and writers and consumers may
 * override them from their config. These are the settings shared by any domain.
 */
/** At least the number of Kafka consumer replicas we plan for (HPA up to 6). */
export const DEFAULT_PARTITIONS = 6;

/** Where a consumer puts a message it cannot decode or apply, with the reason in a header. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** The header that carries why a message was dead-lettered (both brokers). */
export const POISON_REASON_HEADER = 'x-poison-reason';
