import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { weather } from '@tweets/domain';
import { runLoad } from '../src/load.js';

/**
 * A stand-in API on loopback that answers by the tweet's number (its Idempotency-Key `t-<n>`):
 * n % 10 = 0 a 400; else n % 7 = 0 a 503 (Retry-After: 0) on the first two tries, then a 202;
 * else n % 11 = 0 a 503 always; else a 202.
 */
function standIn() {
  const tries = new Map<string, number>();
  return createServer((req, res) => {
    const key = String(req.headers['idempotency-key']);
    const n = Number(key.split('-').pop());
    const nth = (tries.get(key) ?? 0) + 1;
    tries.set(key, nth);
    req.resume().on('end', () => {
      if (n % 10 === 0) res.writeHead(400);
      else if (n % 7 === 0 && nth < 3) res.writeHead(503, { 'retry-after': '0' });
      else if (n % 11 === 0) res.writeHead(503);
      else res.writeHead(202);
      res.end();
    });
  }).listen(0, '127.0.0.1');
}

test('a 4xx is final, a 5xx is retried with the same key until accepted or the retry budget is spent, and each outcome is counted once', async (t) => {
  const server = standIn();
  t.after(() => server.close());
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A 1.2-s budget: a tweet that never gets through is tried five times (backoffs 50, 100, 200 and 400 ms; the
  // next, 800 ms, would pass the budget), with 450 ms to spare for the requests themselves on a slow machine.
  const r = await runLoad({ domain: weather, url, count: 200, concurrency: 8, idPrefix: 't', retry: { maxTotalMs: 1200 } });
  const numbers = Array.from({ length: 200 }, (_, n) => n);
  const rejected = numbers.filter((n) => n % 10 === 0).length;
  const never = numbers.filter((n) => n % 10 !== 0 && n % 11 === 0).length;
  const late = numbers.filter((n) => n % 10 !== 0 && n % 11 !== 0 && n % 7 === 0).length;
  const accepted = 200 - rejected - never;
  assert.deepEqual(
    { sent: r.sent, accepted: r.accepted, rejected: r.rejected, failed: r.failed, retried: r.retried },
    { sent: 200, accepted, rejected, failed: never, retried: late },
  );
  assert.equal(r.attempts, accepted + 2 * late + rejected + 5 * never);
  const counted = Object.values(r.accepted_breakdown).flatMap((byValue) => Object.values(byValue));
  assert.equal(
    counted.reduce((a, b) => a + b, 0),
    accepted,
    'the breakdown holds every accepted tweet once',
  );
  assert.deepEqual(r.errors, { 'HTTP 400': rejected, 'HTTP 503': 2 * late + 5 * never });
});
