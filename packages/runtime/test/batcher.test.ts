import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../src/batcher.js';

test('coalesces concurrent adds and returns each its own result', async () => {
  const batches: number[][] = [];
  const b = new Batcher<number, number>(
    async (xs) => {
      batches.push(xs);
      return xs.map((x) => x * 2);
    },
    { maxSize: 4 },
  );
  const results = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => b.add(x)));
  assert.deepEqual(results, [2, 4, 6, 8, 10, 12]);
  assert.deepEqual(batches, [
    [1, 2, 3, 4],
    [5, 6],
  ]);
});

test('a failed batch rejects every item of it, and only those', async () => {
  const b = new Batcher<number, number>(
    async (xs) => {
      if (xs.includes(3)) throw new Error('boom');
      return xs;
    },
    { maxSize: 2 },
  );
  const r = await Promise.allSettled([1, 2, 3, 4].map((x) => b.add(x)));
  assert.deepEqual(
    r.map((x) => x.status),
    ['fulfilled', 'fulfilled', 'rejected', 'rejected'],
  );
});

test('a wrong result count rejects instead of mismatching', async () => {
  const b = new Batcher<number, number>(async () => [1], { maxSize: 10 });
  await assert.rejects(Promise.all([b.add(1), b.add(2)]), /2 items/);
});

test('drain waits for batches in flight', async () => {
  let done = 0;
  const b = new Batcher<number, number>(
    async (xs) => {
      await new Promise((r) => setTimeout(r, 20));
      done += xs.length;
      return xs;
    },
    { maxSize: 100, maxWaitMs: 1000 },
  );
  void b.add(1);
  void b.add(2);
  await b.drain();
  assert.equal(done, 2);
});

test('with one batch in flight, the next batch gathers what arrives meanwhile, in order', async () => {
  const batches: number[][] = [];
  let running = 0;
  const b = new Batcher<number, number>(
    async (xs) => {
      running++;
      assert.equal(running, 1, 'never two batches at once');
      batches.push(xs);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      return xs;
    },
    { maxSize: 100, maxInFlight: 1 },
  );
  const first = b.add(0);
  await new Promise((r) => setImmediate(r));
  const rest = [1, 2, 3].map((x) => b.add(x));
  assert.deepEqual(await Promise.all([first, ...rest]), [0, 1, 2, 3]);
  assert.deepEqual(batches, [[0], [1, 2, 3]]);
});

test('refuses at once past maxPending', async () => {
  const b = new Batcher<number, number>(async (xs) => xs, { maxSize: 10, maxWaitMs: 50, maxPending: 2 });
  const r = await Promise.allSettled([1, 2, 3].map((x) => b.add(x)));
  assert.deepEqual(
    r.map((x) => x.status),
    ['fulfilled', 'fulfilled', 'rejected'],
  );
  assert.equal((r[2] as PromiseRejectedResult).reason.name, 'OverloadError');
});

test('items that arrive while a batch runs still wait out maxWaitMs, so batches stay large under light load', async () => {
  const batches: number[][] = [];
  let release!: () => void;
  const b = new Batcher<number, number>(
    async (xs) => {
      batches.push(xs);
      if (xs[0] === 0) await new Promise<void>((r) => (release = r));
      return xs;
    },
    { maxSize: 100, maxWaitMs: 60_000, maxInFlight: 1 },
  );
  const first = b.add(0);
  b.flush();
  const second = b.add(1);
  release();
  await first;
  await new Promise((r) => setImmediate(r));
  // A linger far longer than the test, so no machine is slow enough to see it expire: flush() ends it.
  assert.deepEqual(batches, [[0]], 'the second batch waits out its linger though a slot is free');
  const third = b.add(2);
  b.flush();
  assert.deepEqual(await Promise.all([second, third]), [1, 2]);
  assert.deepEqual(batches, [[0], [1, 2]]);
});
