import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { weather, type Item, type Tweet } from '@tweets/domain';
import { protoCodec } from '@tweets/wire/codec';
import { grpc, type BatchResponse } from '@tweets/wire';
import type { Publisher } from '../src/publisher.js';
import { createWriter } from '../src/writer.js';

const codec = protoCodec(weather);
const tweet = (id: string): Tweet => ({ id, municipality: 'amatitlan', temperature: 20, humidity: 40, weather: 'rainy' });

/** A publisher whose acks the test releases (or fails) by hand. */
function fakePublisher() {
  const calls: { ids: string[]; settle: (err?: Error) => void }[] = [];
  const publisher: Publisher = {
    broker: 'kafka',
    publish: (items: readonly Item[]) =>
      new Promise<void>((resolve, reject) => calls.push({ ids: items.map((t) => t.id), settle: (err) => (err ? reject(err) : resolve()) })),
    ready: () => true,
    close: async () => {},
  };
  return { publisher, calls };
}

const rpc = weather.proto.rpc;
const unary = <T>(writer: ReturnType<typeof createWriter>, name: string, request: unknown) =>
  new Promise<{ err: grpc.ServiceError | null; res?: T }>((resolve) =>
    (writer.implementation[name] as grpc.handleUnaryCall<unknown, T>)({ request } as grpc.ServerUnaryCall<unknown, T>, (err, res) =>
      resolve({ err: err as grpc.ServiceError | null, res: res ?? undefined }),
    ),
  );

test('the seed rpc answers only after the broker acked; a broker failure is UNAVAILABLE; bad input never reaches it', async () => {
  const { publisher, calls } = fakePublisher();
  const writer = createWriter({ publisher, rpc, statusField: 'status', item: 'tweet', log: pino({ level: 'silent' }) });
  const answer = unary<{ status: string; id: string }>(
    writer,
    rpc.one,
    codec.decodeRequest(codec.encodeRequest(tweet('t1')), () => 'x'),
  );
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    calls.map((c) => c.ids),
    [['t1']],
  );
  calls[0]!.settle();
  assert.deepEqual(await answer, { err: null, res: { status: 'ok', id: 't1' } });

  const failing = unary(writer, rpc.batch, codec.decodeBatch(codec.encodeBatch([tweet('t2'), tweet('t3')])));
  await new Promise((r) => setImmediate(r));
  calls[1]!.settle(new Error('no durable ack within 1000 ms'));
  const f = await failing;
  assert.equal(f.err?.code, grpc.status.UNAVAILABLE);
  assert.match(f.err!.details, /kafka publish failed: no durable ack/);

  const bad = await unary(
    writer,
    rpc.one,
    codec.decodeRequest(Buffer.from([0x18, 0xe5, 0x01]), () => 'y'),
  );
  assert.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(calls.length, 2);
});

/** A server-side duplex stream, as grpc-js hands one to the handler. */
function fakeStream() {
  const call = Object.assign(new EventEmitter(), {
    written: [] as BatchResponse[],
    ended: false,
    write(r: BatchResponse) {
      this.written.push(r);
      return true;
    },
    end() {
      this.ended = true;
    },
  });
  return call;
}

test('batches on a stream are answered by their seq as each is published; draining answers what is in flight, then ends the stream', async () => {
  const { publisher, calls } = fakePublisher();
  const writer = createWriter({ publisher, rpc, statusField: 'status', item: 'tweet', log: pino({ level: 'silent' }) });
  const call = fakeStream();
  (writer.implementation[rpc.stream] as (c: unknown) => void)(call);
  const batch = (seq: number, ids: string[]) => codec.decodeBatch(Buffer.concat([codec.encodeBatch(ids.map(tweet))]), 100);
  call.emit('data', { ...batch(1, ['a', 'b']), seq: 1 });
  call.emit('data', { ...batch(2, ['c']), seq: 2 });
  call.emit('data', { ok: false, errors: [], message: 'tweets[0].humidity must be from 0 to 100; got 150', seq: 3 });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    call.written.map((w) => [w.seq, w.code]),
    [[3, grpc.status.INVALID_ARGUMENT]],
  );
  calls[1]!.settle();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(call.written.map((w) => [w.seq, w.code, w.count]).slice(1), [[2, 0, 1]], 'answered out of order, by seq');
  const draining = writer.drain();
  call.emit('data', { ...batch(4, ['d']), seq: 4 });
  await new Promise((r) => setImmediate(r));
  assert.equal(call.written.at(-1)!.code, grpc.status.UNAVAILABLE, 'a stopping writer takes no new batch');
  assert.equal(call.ended, false, 'a batch is still in flight');
  calls[0]!.settle();
  await draining;
  assert.deepEqual(
    call.written.find((w) => w.seq === 1),
    { status: 'ok', seq: 1, count: 2, code: 0, details: '' },
  );
  assert.equal(call.ended, true);
});
