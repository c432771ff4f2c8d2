import { Admin, Producer } from '@platformatic/kafka';

export interface KafkaTarget {
  brokers: string[];
  clientId: string;
}

/**
 * Creates the topic if it does not exist; an existing topic is left as it
 * is. Safe to call from every writer and consumer at start.
 */
export async function ensureTopic(target: KafkaTarget, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: `${target.clientId}-admin`, bootstrapBrokers: target.brokers, timeout: 5000, retries: 3 });
  try {
    const existing = await admin.listTopics();
    if (existing.includes(topic)) return;
    try {
      await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
    } catch (err) {
      // Another process may have created it between our list and create.
      const again = await admin.listTopics();
      if (!again.includes(topic)) throw err;
    }
  } finally {
    await admin.close();
  }
}

/**
 * A producer that only reports success once every in-sync replica has the
 * record (acks=all). Keys and values are bytes, passed through untouched.
 *
 * Not idempotent, on purpose: @platformatic/kafka 1.x (the line that runs on
 * Node 20) gets its sequence numbers wrong across a broker restart. The chaos
 * test saw it answer OutOfOrderSequence for every later send, and the broker
 * take a new batch that reused old sequence numbers for a duplicate and drop
 * it while the send resolved: tweets acknowledged and never in the topic (see
 * also upstream issue #326). Without idempotence an ack always means the
 * records were appended; a retry may append a record twice, and the consumers,
 * which apply each tweet id once, make that harmless.
 */
export function createDurableProducer(target: KafkaTarget, timeoutMs: number): Producer {
  return new Producer({
    clientId: target.clientId,
    bootstrapBrokers: target.brokers,
    idempotent: false,
    acks: -1,
    timeout: timeoutMs,
    retries: 2,
    retryDelay: 100,
  });
}
