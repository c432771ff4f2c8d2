import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer } from '@platformatic/kafka';
import * as protoLoader from '@grpc/proto-loader';
import { weather, type WeatherDomain } from '@tweets/domain';
import { fetchStats, waitForCounts } from '@tweets/loadgen';
import { BatchStream, contract, createWriterClient, grpc } from '@tweets/wire';
import { api, stack, COUNT_GUARD_MS } from './helpers.js';
import { tempDir } from '@tweets/stack';

/** The seed's proto exactly (section 4.3.1): no id field, no extensions. */
const SEED_PROTO = `
syntax = "proto3";
package wethertweet;
option go_package = "./proto";
message WeatherTweetRequest{
    Municipalities municipality = 1;
    int32 temperature           = 2;
    int32 humidity              = 3;
    Weathers weather             = 4;
}
enum Municipalities { municipalities_unknown = 0; mixco = 1; guatemala = 2; amatitlan = 3; chinautla = 4; }
enum Weathers { weathers_unknown = 0; sunny = 1; cloudy = 2; rainy = 3; foggy = 4; }
message WeatherTweetResponse { string status = 1; }
service WeatherTweetService { rpc SendTweet (WeatherTweetRequest) returns (WeatherTweetResponse); }
`;

function seedClient(port: number) {
  const dir = tempDir('seed-proto-');
  writeFileSync(join(dir, 'seed.proto'), SEED_PROTO);
  const def = protoLoader.loadSync(join(dir, 'seed.proto'), { keepCase: true, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  return new pkg.wethertweet.WeatherTweetService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

function call(client: any, req: object): Promise<{ status: string }> {
  return new Promise((resolve, reject) =>
    client.SendTweet(req, { deadline: Date.now() + 30_000 }, (err: Error | null, res: { status: string }) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

async function topicEnd(): Promise<bigint> {
  const c = new Consumer({ clientId: 'writer-test', groupId: 'writer-test', bootstrapBrokers: [`127.0.0.1:${stack.ports.kafka}`] });
  try {
    const o = await c.listOffsets({ topics: ['weather-tweets'] });
    return (o.get('weather-tweets') ?? []).reduce((s, x) => s + x, 0n);
  } finally {
    await c.close();
  }
}

test('a client generated from the seed proto can call both writers', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  for (const port of [stack.ports.kafkaWriter, stack.ports.rabbitmqWriter]) {
    const client = seedClient(port);
    const res = await call(client, { municipality: 'guatemala', temperature: 18, humidity: 77, weather: 'foggy' });
    assert.equal(res.status, 'ok');
    await assert.rejects(
      call(client, { municipality: 'municipalities_unknown', temperature: 18, humidity: 77, weather: 'foggy' }),
      (err: any) => {
        assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
        assert.match(err.details, /municipality/);
        return true;
      },
    );
    await assert.rejects(call(client, { municipality: 'mixco', temperature: 18, humidity: 170, weather: 'foggy' }), /humidity/);
    client.close();
  }
  const { reached } = await waitForCounts(api, before, { kafka: 1, rabbitmq: 1 }, COUNT_GUARD_MS);
  assert.ok(reached, 'each writer published the one valid tweet');
});

test('every tweet the Kafka writer acknowledges is in the topic, under concurrency', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  const start = await topicEnd();
  const client = seedClient(stack.ports.kafkaWriter);
  const n = 500;
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => call(client, { municipality: 'mixco', temperature: i % 40, humidity: i % 100, weather: 'cloudy' })),
  );
  client.close();
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  assert.equal(ok, n, JSON.stringify(results.find((r) => r.status === 'rejected')));
  assert.equal((await topicEnd()) - start, BigInt(n), 'one record per acknowledged tweet');
  const { reached, stats } = await waitForCounts(api, before, { kafka: n }, COUNT_GUARD_MS);
  assert.ok(reached);
  assert.equal(stats.paths.kafka.total - before.paths.kafka.total, n);
  assert.equal(stats.paths.rabbitmq.total, before.paths.rabbitmq.total, 'the Kafka writer never writes to RabbitMQ');
});

test('batches on one SendTweetStream are answered by number; a bad batch fails alone', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  const c = contract(weather);
  const client = createWriterClient(c, `127.0.0.1:${stack.ports.rabbitmqWriter}`);
  const stream = new BatchStream(c, client);
  const tag = `stream-${Date.now()}`;
  const batch = (b: number, humidity = 50) =>
    c.codec.encodeBatch(
      Array.from({ length: 5 }, (_, i) => ({
        id: `${tag}-${b}-${i}`,
        municipality: 'amatitlan' as const,
        temperature: 20,
        humidity,
        weather: 'rainy' as const,
      })),
    );
  const results = await Promise.allSettled([
    stream.send(batch(1), 30_000),
    stream.send(batch(2, 150), 30_000),
    stream.send(batch(3), 30_000),
    stream.send(batch(4), 30_000),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
  );
  for (const r of results) if (r.status === 'fulfilled') assert.equal(r.value.count, 5);
  const bad = (results[1] as PromiseRejectedResult).reason;
  assert.equal(bad.code, grpc.status.INVALID_ARGUMENT);
  assert.match(bad.details, /tweets\[0\]\.humidity must be from 0 to 100; got 150/);
  assert.equal(stream.pending, 0);
  stream.close();
  client.close();
  const { reached, stats } = await waitForCounts(api, before, { rabbitmq: 15 }, COUNT_GUARD_MS);
  assert.ok(reached);
  assert.equal(stats.paths.rabbitmq.total - before.paths.rabbitmq.total, 15, 'the three good batches, nothing of the bad one');
});
