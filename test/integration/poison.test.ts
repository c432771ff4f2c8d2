import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, Producer } from '@platformatic/kafka';
import { weather, type WeatherDomain } from '@tweets/domain';
import { fetchStats, waitForCounts } from '@tweets/loadgen';
import * as amqp from 'amqplib';
import { creds, post, sleep, stack, api, uniq, COUNT_GUARD_MS } from './helpers.js';

const good = { municipality: 'guatemala', temperature: 22, humidity: 70, weather: 'rainy' };
const brokers = [`127.0.0.1:${stack.ports.kafka}`];
const { queue } = weather.broker;
const rabbitUrl = () => `amqp://${creds.rabbitmqUser}:${creds.rabbitmqPassword}@127.0.0.1:${stack.ports.amqp}`;

/** A persistent message straight into the queue, as another publisher would send it; resolves once the broker confirmed it. */
function publish(ch: amqp.ConfirmChannel, body: Buffer, opts: amqp.Options.Publish): Promise<void> {
  return new Promise((resolve, reject) =>
    ch.sendToQueue(queue, body, { persistent: true, ...opts }, (err: unknown) => (err ? reject(err as Error) : resolve())),
  );
}

/** Takes messages from the DLQ until `want` of them match (others stay unacked on this channel and go back when it closes). */
async function fromDlq(ch: amqp.Channel, match: (m: amqp.GetMessage) => boolean, want: number): Promise<amqp.GetMessage[]> {
  const got: amqp.GetMessage[] = [];
  for (const until = Date.now() + 60_000; Date.now() < until && got.length < want;) {
    const m = await ch.get(`${queue}.dlq`, { noAck: false });
    if (m && match(m)) got.push(m);
    else if (!m) await sleep(100);
  }
  return got;
}

test('a Kafka message the consumer cannot decode goes to the DLQ with its reason, and does not block the partition', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  const marker = Buffer.from(`not a tweet ${uniq('k')}`);
  const p = new Producer({ clientId: 'poison-test', bootstrapBrokers: brokers, acks: -1 });
  // Into every partition, so whichever the next good tweet lands on is behind poison.
  await p.send({ messages: Array.from({ length: 6 }, (_, partition) => ({ topic: 'weather-tweets', partition, value: marker })) });
  await p.close();
  assert.equal((await post(good, { 'idempotency-key': uniq('after-poison') })).status, 202);
  const { reached } = await waitForCounts(api, before, { kafka: 1, rabbitmq: 1 }, COUNT_GUARD_MS);
  assert.ok(reached, 'the good tweet behind the poison was counted');

  const c = new Consumer({
    clientId: 'poison-test',
    groupId: uniq('dlq-reader'),
    bootstrapBrokers: brokers,
    autocommit: false,
    maxWaitTime: 200,
  });
  const stream = await c.consume({ topics: ['weather-tweets.dlq'], mode: 'earliest', autocommit: false });
  const found: { reason: string; source: string }[] = [];
  const deadline = Date.now() + 60_000; // a guard: the six are there once the good tweet was counted
  for await (const m of stream) {
    if (Buffer.compare(m.value, marker) === 0) {
      const h = new Map([...m.headers].map(([k, v]) => [k.toString(), v.toString()]));
      found.push({ reason: h.get('x-poison-reason') ?? '', source: h.get('x-source') ?? '' });
    }
    if (found.length === 6 || Date.now() > deadline) break;
  }
  await stream.close();
  await c.close();
  assert.equal(found.length, 6);
  for (const f of found) {
    assert.match(f.reason, /not JSON/);
    assert.match(f.source, /^weather-tweets\/\d\/\d+$/);
  }
});

test('a RabbitMQ message the consumer cannot decode goes to the DLQ with its reason, and the queue moves on', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  const rabbit = await amqp.connect(rabbitUrl());
  const ch = await rabbit.createConfirmChannel();
  const id = uniq('poison');
  await publish(ch, Buffer.from('{"municipality":"mixco"}'), { messageId: id });
  assert.equal((await post(good, { 'idempotency-key': uniq('after-poison') })).status, 202);
  const { reached } = await waitForCounts(api, before, { kafka: 1, rabbitmq: 1 }, COUNT_GUARD_MS);
  assert.ok(reached, 'the good tweet behind the poison was counted');

  const [got] = await fromDlq(ch, (m) => m.properties.messageId === id, 1);
  assert.ok(got, 'the poison message is in the DLQ');
  ch.ack(got);
  assert.match(String(got.properties.headers?.['x-poison-reason']), /id is not a field|must be|required/);
  await ch.close();
  await rabbit.close();
});

test('in a RabbitMQ batch message, an invalid tweet goes to the DLQ alone and the others are counted once', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  const rabbit = await amqp.connect(rabbitUrl());
  const ch = await rabbit.createConfirmChannel();
  const id = uniq('batch');
  const tweets = [
    { id: `${id}-a`, ...good },
    { id: `${id}-b`, ...good, humidity: 101 },
    { id: `${id}-c`, ...good, weather: 'sunny' },
  ];
  const body = Buffer.from(JSON.stringify(tweets));
  const props = { messageId: id, contentType: weather.broker.batchContentType };
  await publish(ch, body, props);
  await publish(ch, body, props); // a redelivered batch: its tweets are applied once
  const { reached, stats } = await waitForCounts(api, before, { rabbitmq: 2 }, COUNT_GUARD_MS);
  assert.ok(reached, 'the two valid tweets of the batch were counted');
  await sleep(500);
  const after = await fetchStats<WeatherDomain>(api);
  assert.equal(after.paths.rabbitmq.total - before.paths.rabbitmq.total, 2, 'each valid tweet once');
  assert.equal(stats.paths.kafka.total, before.paths.kafka.total, 'nothing reached Kafka');

  const got = await fromDlq(ch, (m) => m.properties.messageId === `${id}#1`, 2);
  assert.equal(got.length, 2, 'the invalid tweet, once per delivery of its batch, in the DLQ');
  for (const m of got) {
    ch.ack(m);
    assert.deepEqual(JSON.parse(m.content.toString()), tweets[1]);
    assert.match(String(m.properties.headers?.['x-poison-reason']), /tweet 1 of a batch: humidity must be from 0 to 100/);
  }
  await ch.close();
  await rabbit.close();
});
