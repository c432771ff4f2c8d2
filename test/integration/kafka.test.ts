import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Consumer, type Message } from '@platformatic/kafka';
import { createDurableProducer, ensureTopic } from '@tweets/brokers';
import { stack, uniq } from './helpers.js';

const brokers = [`127.0.0.1:${stack.ports.kafka}`];
const SENDS = 40;
const PER_SEND = 25;

function sendAll(producer: ReturnType<typeof createDurableProducer>, topic: string, phase: string) {
  return Promise.allSettled(
    Array.from({ length: SENDS }, (_, s) =>
      producer.send({
        messages: Array.from({ length: PER_SEND }, (_, i) => ({ topic, key: Buffer.from(`${phase}-${s}-${i}`), value: Buffer.from('x') })),
      }),
    ),
  );
}

// The test that caught upstream #326 in the 1.x client: many sends in flight at
// once on one idempotent producer. Every acknowledged record must be in the
// topic. Once the producer is under way (its producer id and the topic's
// metadata known, as in the writer, which keeps one send in flight), each is
// there exactly once. The first sends of a new producer, when many start at
// once, may append a record twice: 2.12.1 does that with or without
// idempotence (docs/architecture.md); the consumers' per-id dedup absorbs it.
test(
  'the durable producer: concurrent sends, every acknowledged record in the topic, once the producer is under way exactly once',
  { timeout: 300_000 },
  async () => {
    const topic = uniq('producer-test');
    await ensureTopic({ brokers, clientId: 'producer-test' }, topic, 6);
    const producer = createDurableProducer({ brokers, clientId: 'producer-test' }, 30_000);
    const cold = await sendAll(producer, topic, 'cold');
    const warm = await sendAll(producer, topic, 'warm');
    await producer.close();
    assert.deepEqual(
      [...cold, ...warm].filter((r) => r.status === 'rejected'),
      [],
      'every send was acknowledged',
    );

    const consumer = new Consumer({
      clientId: 'producer-test',
      groupId: uniq('producer-test'),
      bootstrapBrokers: brokers,
      autocommit: false,
      maxWaitTime: 200,
    });
    const admin = new Admin({ clientId: 'producer-test-admin', bootstrapBrokers: brokers });
    try {
      const offsets = await consumer.listOffsets({ topics: [topic] });
      const inLog = Number((offsets.get(topic) ?? []).reduce((a, b) => a + b, 0n));
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      const keys = new Map<string, number>();
      let read = 0;
      for await (const m of stream as AsyncIterable<Message>) {
        const k = m.key.toString();
        keys.set(k, (keys.get(k) ?? 0) + 1);
        if (++read === inLog) break;
      }
      await stream.close();
      const twice = [...keys].filter(([k, n]) => k.startsWith('cold') && n > 1).length;
      console.log(`# ${inLog} records in the log for ${2 * SENDS * PER_SEND} acknowledged; first sends appended twice: ${twice}`);
      for (let s = 0; s < SENDS; s++) {
        for (let i = 0; i < PER_SEND; i++) {
          assert.ok((keys.get(`cold-${s}-${i}`) ?? 0) >= 1, `record cold-${s}-${i} is in the log`);
          assert.equal(keys.get(`warm-${s}-${i}`), 1, `record warm-${s}-${i} is in the log once`);
        }
      }
    } finally {
      await consumer.close();
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.close();
    }
  },
);
