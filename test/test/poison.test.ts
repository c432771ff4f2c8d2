import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, Producer } from '@platformatic/kafka';
import { fetchStats, waitForCounts } from '@tweets/loadgen';
import { Connection } from 'rabbitmq-client';
import { creds, post, sleep, stack, api, uniq, COUNT_GUARD_MS } from './helpers.js';

const good = { municipality: 'guatemala', temperature: 22, humidity: 70, weather: 'rainy' };
const brokers = [`127.0.0.1:${stack.ports.kafka}`];

test('a Kafka message the consumer cannot decode goes to the DLQ with its reason, and does not block the partition', async () => {
  const before = await fetchStats(api);
  const marker = Buffer.from(`not a tweet ${uniq('k')}`);
  const p = new Producer({ clientId: 'poison-test', bootstrapBrokers: brokers, acks: -1 });
  // Into every partition, so whichever the next good tweet lands on is behind poison.
  await p.send({ messages: Array.from({ length: 6 }, (_, partition) => ({ topic: 'weather-tweets', partition, value: marker })) });
  await p.close();
  assert.equal((await post(good, { 'idempotency-key': uniq('after-poison') })).status, 202);
  const { reached } = await waitForCounts(api, before, { kafka: 1, rabbitmq: 1 }, COUNT_GUARD_MS);
  assert.ok(reached, 'the good tweet behind the poison was counted');

  const c = new Consumer({ clientId: 'poison-test', groupId: uniq('dlq-reader'), bootstrapBrokers: brokers, autocommit: false, maxWaitTime: 200 });
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
  const before = await fetchStats(api);
  const rabbit = new Connection(`amqp://${creds.rabbitmqUser}:${creds.rabbitmqPassword}@127.0.0.1:${stack.ports.amqp}`);
  const pub = rabbit.createPublisher({ confirm: true });
  const id = uniq('poison');
  await pub.send({ routingKey: 'weather-tweets', durable: true, messageId: id }, Buffer.from('{"municipality":"mixco"}'));
  assert.equal((await post(good, { 'idempotency-key': uniq('after-poison') })).status, 202);
  const { reached } = await waitForCounts(api, before, { kafka: 1, rabbitmq: 1 }, COUNT_GUARD_MS);
  assert.ok(reached, 'the good tweet behind the poison was counted');

  const ch = await rabbit.acquire();
  let got;
  for (const until = Date.now() + 60_000; Date.now() < until && !got; ) {
    const m = await ch.basicGet({ queue: 'weather-tweets.dlq', noAck: false });
    if (m?.messageId === id) got = m;
    else if (!m) await sleep(100); // others stay unacked on this channel and go back when it closes
  }
  assert.ok(got, 'the poison message is in the DLQ');
  await ch.basicAck({ deliveryTag: got.deliveryTag });
  assert.match(String(got.headers?.['x-poison-reason']), /id is not a field|must be|required/);
  await ch.close();
  await pub.close();
  await rabbit.close();
});

test('in a RabbitMQ batch message, an invalid tweet goes to the DLQ alone and the others are counted once', async () => {
  const before = await fetchStats(api);
  const rabbit = new Connection(`amqp://${creds.rabbitmqUser}:${creds.rabbitmqPassword}@127.0.0.1:${stack.ports.amqp}`);
  const pub = rabbit.createPublisher({ confirm: true });
  const id = uniq('batch');
  const tweets = [
    { id: `${id}-a`, ...good },
    { id: `${id}-b`, ...good, humidity: 101 },
    { id: `${id}-c`, ...good, weather: 'sunny' },
  ];
  const body = Buffer.from(JSON.stringify(tweets));
  const props = { routingKey: 'weather-tweets', durable: true, messageId: id, contentType: 'application/vnd.weather-tweet-batch.v1+json' };
  await pub.send(props, body);
  await pub.send(props, body); // a redelivered batch: its tweets are applied once
  const { reached, stats } = await waitForCounts(api, before, { rabbitmq: 2 }, COUNT_GUARD_MS);
  assert.ok(reached, 'the two valid tweets of the batch were counted');
  await sleep(500);
  const after = await fetchStats(api);
  assert.equal(after.paths.rabbitmq.total - before.paths.rabbitmq.total, 2, 'each valid tweet once');
  assert.equal(stats.paths.kafka.total, before.paths.kafka.total, 'nothing reached Kafka');

  const ch = await rabbit.acquire();
  const got = [];
  for (const until = Date.now() + 60_000; Date.now() < until && got.length < 2; ) {
    const m = await ch.basicGet({ queue: 'weather-tweets.dlq', noAck: false });
    if (m?.messageId === `${id}#1`) got.push(m);
    else if (!m) await sleep(100);
  }
  assert.equal(got.length, 2, 'the invalid tweet, once per delivery of its batch, in the DLQ');
  for (const m of got) {
    await ch.basicAck({ deliveryTag: m.deliveryTag });
    assert.deepEqual(JSON.parse(Buffer.from(m.body as Buffer).toString()), tweets[1]);
    assert.match(String(m.headers?.['x-poison-reason']), /tweet 1 of a batch: humidity must be from 0 to 100/);
  }
  await ch.close();
  await pub.close();
  await rabbit.close();
});
