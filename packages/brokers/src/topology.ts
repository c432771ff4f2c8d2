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
