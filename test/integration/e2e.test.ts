import { test } from 'node:test';
import assert from 'node:assert/strict';
import { weather, type TweetFields, type WeatherDomain } from '@tweets/domain';
import { breakdownDelta, emptyBreakdown, type BreakdownOf } from '@tweets/store/stats';
import { fetchStats, rng, runLoad, waitForCounts } from '@tweets/loadgen';

import { api, post, sleep, uniq, COUNT_GUARD_MS } from './helpers.js';

/**
 * A known multiset: each (municipality, weather) pair gets its own count,
 * 200 + 20·i for pair i, 5,600 tweets in all, shuffled. Every pair's count
 * differs, so a tweet counted under the wrong pair cannot go unnoticed.
 */
function knownMultiset(): { tweets: TweetFields[]; expected: BreakdownOf<WeatherDomain> } {
  const expected = emptyBreakdown(weather);
  const tweets: TweetFields[] = [];
  let i = 0;
  for (const municipality of weather.fields.municipality.values) {
    for (const condition of weather.fields.weather.values) {
      const n = 200 + 20 * i++;
      expected[municipality][condition] = n;
      for (let k = 0; k < n; k++) tweets.push({ municipality, weather: condition, temperature: -5 + (k % 40), humidity: k % 101 });
    }
  }
  const next = rng(7);
  for (let j = tweets.length - 1; j > 0; j--) {
    const r = Math.floor(next() * (j + 1));
    [tweets[j], tweets[r]] = [tweets[r]!, tweets[j]!];
  }
  return { tweets, expected };
}

const BAD_BODIES: unknown[] = [
  '{not json',
  { municipality: 'mixco', temperature: 20, humidity: 50 },
  { municipality: 'municipalities_unknown', temperature: 20, humidity: 50, weather: 'sunny' },
  { municipality: 'mixco', temperature: 20, humidity: 50, weather: 'weathers_unknown' },
  { municipality: 'mixco', temperature: 20, humidity: 150, weather: 'sunny' },
  { municipality: 'mixco', temperature: 20.5, humidity: 50, weather: 'sunny' },
  { municipality: 'mixco', temperature: 20, humidity: 50, weather: 'sunny', id: 'smuggled' },
];

test('5,600 known tweets through the API are counted exactly per (municipality, weather) on both paths; bad input adds nothing', async () => {
  const before = await fetchStats<WeatherDomain>(api);
  const { tweets, expected } = knownMultiset();
  assert.equal(tweets.length, 5600);

  // Bad requests interleaved with the load, from another client: at least ten rounds of every kind,
  // and more for as long as the load runs.
  let badSent = 0;
  let badRejected = 0;
  let loading = true;
  const bad = (async () => {
    while (loading || badSent < 10 * BAD_BODIES.length) {
      const body = BAD_BODIES[badSent % BAD_BODIES.length];
      const r = await post(body, { 'idempotency-key': uniq('bad') });
      badSent++;
      if (r.status >= 400 && r.status < 500) badRejected++;
      await sleep(5);
    }
  })();
  // A 503 asks the client to retry with the same Idempotency-Key (a busy machine may take longer than a
  // deadline on the way); the retried tweet must still count once.
  const result = await runLoad({
    domain: weather,
    url: api,
    count: tweets.length,
    concurrency: 10,
    idPrefix: uniq('e2e'),
    tweets,
    retry: { maxTotalMs: 120_000 },
    maxDurationMs: 600_000,
  });
  loading = false;
  await bad;

  assert.equal(result.sent, tweets.length);
  assert.equal(result.accepted, tweets.length, JSON.stringify(result.errors));
  assert.deepEqual(result.accepted_breakdown, expected);
  assert.equal(badRejected, badSent, 'every bad request got a 4xx');

  const { reached } = await waitForCounts(api, before, { kafka: tweets.length, rabbitmq: tweets.length }, COUNT_GUARD_MS);
  assert.ok(reached, 'both paths counted every accepted tweet');
  await sleep(1500); // anything extra (a duplicate, a bad input) would land by now
  const after = await fetchStats<WeatherDomain>(api);
  for (const p of ['kafka', 'rabbitmq'] as const) {
    assert.equal(after.paths[p].total - before.paths[p].total, tweets.length, `${p} total`);
    assert.deepEqual(breakdownDelta(weather, before.paths[p], after.paths[p]), expected, `${p} per (municipality, weather)`);
  }
});
