import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Consumer, type Message } from '@platformatic/kafka';
import { createDurableProducer, ensureTopic } from '@tweets/brokers';
import { stack, uniq } from './helpers.js';

const brokers = [`127.0.0.1:${stack.ports.kafka}`];

// The test that caught upstream #326 in the 1.x client: many sends in flight at
// once on one idempotent producer. Every acknowledged record must be in the
// topic, and exactly once (idempotence: no retry appends a record twice).
test('the durable producer: concurrent sends, every acknowledged record in the topic exactly once', { timeout: 300_000 }, async () => {
  const topic = uniq('producer-test');
  await ensureTopic({ brokers, clientId: 'producer-test' }, topic, 6);
  const producer = createDurableProducer({ brokers, clientId: 'producer-test' }, 30_000);
  const sends = 40;
  const perSend = 25;
  const results = await Promise.allSettled(
    Array.from({ length: sends }, (_, s) =>
      producer.send({ messages: Array.from({ length: perSend }, (_, i) => ({ topic, key: Buffer.from(`${s}-${i}`), value: Buffer.from(`v${s}-${i}`) })) }),
    ),
  );
  await producer.close();
  assert.deepEqual(results.filter((r) => r.status === 'rejected'), [], 'every send was acknowledged');

  const consumer = new Consumer({ clientId: 'producer-test', groupId: uniq('producer-test'), bootstrapBrokers: brokers, autocommit: false, maxWaitTime: 200 });
  const admin = new Admin({ clientId: 'producer-test-admin', bootstrapBrokers: brokers });
  try {
    const offsets = await consumer.listOffsets({ topics: [topic] });
    const inLog = (offsets.get(topic) ?? []).reduce((a, b) => a + b, 0n);
    assert.equal(inLog, BigInt(sends * perSend), 'the log holds exactly the acknowledged records, none twice');
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
    const keys = new Map<string, number>();
    let read = 0;
    for await (const m of stream as AsyncIterable<Message>) {
      const k = m.key.toString();
      keys.set(k, (keys.get(k) ?? 0) + 1);
      if (++read === sends * perSend) break;
    }
    await stream.close();
    for (let s = 0; s < sends; s++) for (let i = 0; i < perSend; i++) assert.equal(keys.get(`${s}-${i}`), 1, `record ${s}-${i}`);
  } finally {
    await consumer.close();
    await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    await admin.close();
  }
});
