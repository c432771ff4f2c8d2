import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Pool } from 'undici';
import { weather, type WeatherDomain } from '@tweets/domain';
import { breakdownDelta, emptyBreakdown } from '@tweets/store/stats';
import { fetchStats, waitForCounts } from '@tweets/loadgen';
import { api, restarts, sleep, uniq, COUNT_GUARD_MS } from './helpers.js';

/**
 * 10,000 requests from fast-check: valid tweets, valid tweets with one
 * mutation, arbitrary JSON, arbitrary bytes, odd content types and keys.
 * An oracle written here, apart from the service's validator, says which
 * must be accepted. Valid: 2xx. Anything else: 4xx problem+json. Never a 5xx,
 * and Valkey grows by exactly the accepted tweets.
 */

const MUNIS = ['mixco', 'guatemala', 'amatitlan', 'chinautla'];
const WEATHERS = ['sunny', 'cloudy', 'rainy', 'foggy'];

/** An enum's name, given by name or by its proto number (1 is the first), as the API takes it; else undefined. */
function enumName(names: string[], v: unknown): string | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? names[v - 1] : undefined;
  return typeof v === 'string' && names.includes(v) ? v : undefined;
}

function oracleValid(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const o = body as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  if (keys !== 'humidity,municipality,temperature,weather') return false;
  const int = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
  return !!enumName(MUNIS, o.municipality) && !!enumName(WEATHERS, o.weather) && int(o.temperature, -50, 60) && int(o.humidity, 0, 100);
}

const validTweet = fc.record({
  municipality: fc.constantFrom(...MUNIS),
  temperature: fc.integer({ min: -50, max: 60 }),
  humidity: fc.integer({ min: 0, max: 100 }),
  weather: fc.constantFrom(...WEATHERS),
});

/** Valid tweets with their enums given by number (the proto3 JSON mapping), 1 to 4. */
const numberedTweet = fc.record({
  municipality: fc.integer({ min: 1, max: 4 }),
  temperature: fc.integer({ min: -50, max: 60 }),
  humidity: fc.integer({ min: 0, max: 100 }),
  weather: fc.integer({ min: 1, max: 4 }),
});

const badValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.integer({ min: -1e6, max: 1e6 }),
  fc.string({ maxLength: 12 }),
  fc.constantFrom('municipalities_unknown', 'weathers_unknown', 'MIXCO', 'Sunny', '', ' sunny'),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant(61),
  fc.constant(-51),
  fc.constant(101),
  fc.constant(-1),
  fc.constant(25.5),
  fc.constant('25'),
);

const mutated = fc
  .tuple(
    validTweet,
    fc.constantFrom('drop', 'extra', 'replace'),
    fc.constantFrom('municipality', 'temperature', 'humidity', 'weather'),
    badValue,
    fc.string({ minLength: 1, maxLength: 10 }),
  )
  .map(([t, how, field, value, extraName]) => {
    const o: Record<string, unknown> = { ...t };
    if (how === 'drop') delete o[field];
    else if (how === 'extra') o[MUNIS.includes(extraName) ? `${extraName}_` : extraName] = value;
    else o[field] = value;
    return o;
  });

const body = fc.oneof(
  { weight: 4, arbitrary: validTweet.map((t) => JSON.stringify(t)) },
  { weight: 1, arbitrary: numberedTweet.map((t) => JSON.stringify(t)) },
  { weight: 4, arbitrary: mutated.map((t) => JSON.stringify(t)) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: validTweet.map((t) => JSON.stringify(t).slice(0, -1)) },
  { weight: 1, arbitrary: fc.constant('x'.repeat(2000)) },
);

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'application/jsonx', '', 'none'),
  },
);

const keyKind = fc.constantFrom('none', 'unique', 'invalid');

interface Case {
  body: string;
  contentType: string;
  key: 'none' | 'unique' | 'invalid';
  badKey: string;
}

function expectAccepted(c: Case): boolean {
  if (!/^application\/json\s*(;|$)/i.test(c.contentType)) return false;
  if (c.key === 'invalid') return false;
  if (Buffer.byteLength(c.body) > 1024) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(c.body);
  } catch {
    return false;
  }
  return oracleValid(parsed);
}

test('10,000 fuzzed requests: valid ones 2xx, the rest 4xx problem+json, no 5xx, and Valkey grows by the valid ones only', async () => {
  const cases: Case[] = fc.sample(
    fc.record({ body, contentType, key: keyKind, badKey: fc.string({ minLength: 1, maxLength: 20 }).map((s) => `${s} /{`) }),
    { numRuns: 10_000, seed: 20261122 },
  );
  const before = await fetchStats<WeatherDomain>(api);
  const restartsBefore = restarts();
  const pool = new Pool(api, { connections: 16 });
  const expected = emptyBreakdown(weather);
  let accepted = 0;
  const surprises: string[] = [];
  const prefix = uniq('fuzz');
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const n = next++;
      const c = cases[n]!;
      const headers: Record<string, string> = {};
      if (c.contentType !== 'none') headers['content-type'] = c.contentType;
      if (c.key === 'unique') headers['idempotency-key'] = `${prefix}-${n}`;
      if (c.key === 'invalid') headers['idempotency-key'] = encodeURIComponent(c.badKey).slice(0, 10) + ' x';
      const res = await pool.request({ path: '/tweets', method: 'POST', headers, body: c.body, signal: AbortSignal.timeout(10_000) });
      const text = await res.body.text();
      const should = expectAccepted(c);
      const got2xx = res.statusCode >= 200 && res.statusCode < 300;
      if (res.statusCode >= 500 || got2xx !== should) {
        surprises.push(`${res.statusCode} for ${JSON.stringify(c).slice(0, 200)}: ${text.slice(0, 200)}`);
      } else if (!got2xx && !/^application\/problem\+json/.test(String(res.headers['content-type']))) {
        surprises.push(`${res.statusCode} without problem+json for ${JSON.stringify(c).slice(0, 200)}`);
      }
      if (got2xx) {
        accepted++;
        const t = JSON.parse(c.body) as { municipality: unknown; weather: unknown };
        expected[enumName(MUNIS, t.municipality) as keyof typeof expected][enumName(WEATHERS, t.weather) as 'sunny']++;
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await pool.close();
  assert.deepEqual(surprises.slice(0, 5), [], `${surprises.length} surprises`);
  assert.deepEqual(restarts(), restartsBefore, 'no process crashed');
  assert.ok(accepted > 1000 && accepted < 9000, `a fair mix: ${accepted} accepted of ${cases.length}`);

  const { reached } = await waitForCounts(api, before, { kafka: accepted, rabbitmq: accepted }, COUNT_GUARD_MS);
  assert.ok(reached);
  await sleep(1500);
  const after = await fetchStats<WeatherDomain>(api);
  for (const p of ['kafka', 'rabbitmq'] as const) {
    assert.equal(after.paths[p].total - before.paths[p].total, accepted, p);
    assert.deepEqual(breakdownDelta(weather, before.paths[p], after.paths[p]), expected, p);
  }
});
