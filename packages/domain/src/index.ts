/**
 * The weather tweet of the seed (section 4.3.1): a municipality, an integer
 * temperature and humidity, and a weather condition. Names are the seed's
 * lowercase enum names; the `*_unknown` zero values are never valid input.
 */

export const MUNICIPALITIES = ['mixco', 'guatemala', 'amatitlan', 'chinautla'] as const;
export const WEATHERS = ['sunny', 'cloudy', 'rainy', 'foggy'] as const;

export type Municipality = (typeof MUNICIPALITIES)[number];
export type Weather = (typeof WEATHERS)[number];

/** Degrees Celsius. Guatemala ranges from about -10 to 45; wider is implausible. */
export const TEMPERATURE_MIN = -50;
export const TEMPERATURE_MAX = 60;
/** Relative humidity, percent. */
export const HUMIDITY_MIN = 0;
export const HUMIDITY_MAX = 100;

/** Ids are the client's Idempotency-Key or one we make: short, printable, safe in a key name. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export interface TweetFields {
  municipality: Municipality;
  temperature: number;
  humidity: number;
  weather: Weather;
}

export interface Tweet extends TweetFields {
  id: string;
}

export interface FieldError {
  /** JSON pointer-ish name of the offending field, or '' for the body itself. */
  field: string;
  reason: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

const FIELDS = ['municipality', 'temperature', 'humidity', 'weather'] as const;
const MUNICIPALITY_SET: ReadonlySet<string> = new Set(MUNICIPALITIES);
const WEATHER_SET: ReadonlySet<string> = new Set(WEATHERS);

export function isMunicipality(v: unknown): v is Municipality {
  return typeof v === 'string' && MUNICIPALITY_SET.has(v);
}

export function isWeather(v: unknown): v is Weather {
  return typeof v === 'string' && WEATHER_SET.has(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function checkEnum(field: string, v: unknown, allowed: readonly string[], errors: FieldError[]): void {
  if (typeof v !== 'string') {
    errors.push({ field, reason: `must be a string, one of ${allowed.join(', ')}; got ${typeName(v)}` });
  } else if (!allowed.includes(v)) {
    errors.push({ field, reason: `must be one of ${allowed.join(', ')}; got ${JSON.stringify(v.slice(0, 40))}` });
  }
}

function checkInt(field: string, v: unknown, min: number, max: number, errors: FieldError[]): void {
  if (typeof v !== 'number') {
    errors.push({ field, reason: `must be an integer from ${min} to ${max}; got ${typeName(v)}` });
  } else if (!Number.isInteger(v)) {
    errors.push({ field, reason: `must be an integer; got ${v}` });
  } else if (v < min || v > max) {
    errors.push({ field, reason: `must be from ${min} to ${max}; got ${v}` });
  }
}

/**
 * Checks a parsed JSON body against the tweet's shape: exactly the four
 * fields, the seed's enum names, integers in range. Reports every problem.
 */
export function validateTweet(body: unknown): Validation<TweetFields> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '', reason: `body must be a JSON object; got ${typeName(body)}` }] };
  }
  const o = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const f of FIELDS) {
    if (!Object.hasOwn(o, f)) errors.push({ field: f, reason: 'is required' });
  }
  for (const k of Object.keys(o)) {
    if (!(FIELDS as readonly string[]).includes(k)) {
      errors.push({ field: k.slice(0, 64), reason: 'is not a field of a tweet' });
    }
  }
  if (Object.hasOwn(o, 'municipality')) checkEnum('municipality', o.municipality, MUNICIPALITIES, errors);
  if (Object.hasOwn(o, 'weather')) checkEnum('weather', o.weather, WEATHERS, errors);
  if (Object.hasOwn(o, 'temperature')) checkInt('temperature', o.temperature, TEMPERATURE_MIN, TEMPERATURE_MAX, errors);
  if (Object.hasOwn(o, 'humidity')) checkInt('humidity', o.humidity, HUMIDITY_MIN, HUMIDITY_MAX, errors);
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      municipality: o.municipality as Municipality,
      temperature: o.temperature as number,
      humidity: o.humidity as number,
      weather: o.weather as Weather,
    },
  };
}

export function validateId(id: unknown, field = 'id'): Validation<string> {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    return {
      ok: false,
      errors: [{ field, reason: 'must be 1 to 128 characters of A-Z a-z 0-9 . _ : -' }],
    };
  }
  return { ok: true, value: id };
}

/** A whole tweet with its id, as it travels between services and through the brokers. */
export function validateIdentifiedTweet(body: unknown): Validation<Tweet> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '', reason: `must be a JSON object; got ${typeName(body)}` }] };
  }
  const { id, ...fields } = body as Record<string, unknown>;
  const idCheck = validateId(id);
  const fieldCheck = validateTweet(fields);
  const errors = [...(idCheck.ok ? [] : idCheck.errors), ...(fieldCheck.ok ? [] : fieldCheck.errors)];
  if (!idCheck.ok || !fieldCheck.ok) return { ok: false, errors };
  return { ok: true, value: { id: idCheck.value, ...fieldCheck.value } };
}

/** One tweet as compact JSON text, fields in a fixed order. */
export function tweetJson(t: Tweet): string {
  return (
    `{"id":${JSON.stringify(t.id)},"municipality":"${t.municipality}","temperature":${t.temperature},` +
    `"humidity":${t.humidity},"weather":"${t.weather}"}`
  );
}

/** The broker message of one tweet: its JSON. */
export function encodeTweet(t: Tweet): Buffer {
  return Buffer.from(tweetJson(t));
}

/** The broker message of a batch: a JSON array of tweets as encodeTweet writes them. */
export function encodeTweetBatch(tweets: readonly Tweet[]): Buffer {
  let s = '[';
  for (let i = 0; i < tweets.length; i++) s += (i === 0 ? '' : ',') + tweetJson(tweets[i]!);
  return Buffer.from(s + ']');
}

/**
 * Tweets as batch messages of up to `max` each, in order. A message is named
 * by its first tweet and how many follow (`<id>+<n>`): the name only tells
 * messages apart in logs and the DLQ.
 */
export function encodeTweetBatches(tweets: readonly Tweet[], max: number): { body: Buffer; messageId: string; count: number }[] {
  const out = [];
  for (let i = 0; i < tweets.length; i += max) {
    const part = tweets.slice(i, i + max);
    out.push({ body: encodeTweetBatch(part), messageId: `${part[0]!.id}+${part.length - 1}`, count: part.length });
  }
  return out;
}

/** A broker message's JSON (bytes, or their text); not JSON is poison. */
function parseMessage(message: Buffer | Uint8Array | string): Validation<unknown> {
  try {
    const text = typeof message === 'string' ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('utf8');
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, errors: [{ field: '', reason: `not JSON: ${(err as Error).message}` }] };
  }
}

/** What a batch message holds: its valid tweets, and each invalid element (its JSON) with why. */
export interface DecodedBatch {
  tweets: Tweet[];
  invalid: { index: number; json: string; errors: FieldError[] }[];
}

/**
 * Decodes a batch message (a JSON array of tweets). Each element is checked
 * alone: the valid ones are applied, each invalid one is poison on its own. A
 * message that is not a JSON array is poison whole.
 */
export function decodeTweetBatch(message: Buffer | Uint8Array | string): Validation<DecodedBatch> {
  const p = parseMessage(message);
  if (!p.ok) return p;
  const parsed = p.value;
  if (!Array.isArray(parsed)) return { ok: false, errors: [{ field: '', reason: `a batch must be a JSON array; got ${typeName(parsed)}` }] };
  const out: DecodedBatch = { tweets: [], invalid: [] };
  for (let i = 0; i < parsed.length; i++) {
    const v = validateIdentifiedTweet(parsed[i]);
    if (v.ok) out.tweets.push(v.value);
    else out.invalid.push({ index: i, json: JSON.stringify(parsed[i]) ?? 'undefined', errors: v.errors });
  }
  return { ok: true, value: out };
}

/**
 * Decodes and checks a broker message (bytes, or their text); a message that
 * fails is poison, never applied.
 */
export function decodeTweet(message: Buffer | Uint8Array | string): Validation<Tweet> {
  const p = parseMessage(message);
  return p.ok ? validateIdentifiedTweet(p.value) : p;
}

export function formatErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.field ? `${e.field} ${e.reason}` : e.reason)).join('; ');
}
