import { Admin, Producer } from '@platformatic/kafka';

export interface KafkaTarget {
  brokers: string[];
  clientId: string;
}

/**
 * Creates the topic if it does not exist, with the brokers' default replication factor (one node: 1; the
 * replicated stack and the cluster: 3); an existing topic is left as it is. Safe to call from every writer
 * and consumer at start.
 */
export async function ensureTopic(target: KafkaTarget, topic: string, partitions: number): Promise<void> {
  const admin = new Admin({ clientId: `${target.clientId}-admin`, bootstrapBrokers: target.brokers, timeout: 5000, retries: 3 });
  try {
    const existing = await admin.listTopics();
    if (existing.includes(topic)) return;
    try {
      await admin.createTopics({ topics: [topic], partitions });
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
 * record (acks=all), and idempotent: the broker numbers each producer's
 * batches per partition, so a batch the client retries after a lost answer
 * is appended once, never twice. Keys and values are bytes, passed through
 * untouched.
 *
 * Idempotence was off while the project ran @platformatic/kafka 1.x, whose
 * idempotent producer lost acknowledged records (concurrent sends, upstream
 * #326; no recovery after a broker lost the producer's state, #309). 2.x fixed
 * both; test/integration/kafka.test.ts (concurrent sends: every acknowledged record in
 * the topic, exactly once) and the chaos run (a Kafka restart under load)
 * check it here. The consumers still apply each tweet id once, so a duplicate
 * from any other source (a writer that failed after the broker took the batch,
 * a client's retry) is harmless too.
 */
export function createDurableProducer(target: KafkaTarget, timeoutMs: number): Producer {
  return new Producer({
    clientId: target.clientId,
    bootstrapBrokers: target.brokers,
    idempotent: true,
    acks: -1,
    timeout: timeoutMs,
    retries: 2,
    retryDelay: 100,
  });
}
