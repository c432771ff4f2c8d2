/**
 * A direct codec for the hot messages of the contract: WeatherTweetRequest
 * and WeatherTweetBatch (packages/wire/proto/wethertweet.proto). It writes and
 * reads the same bytes as any protobuf library (the tests check it against
 * the proto loader), without building an object per field: the ingest API
 * encodes a batch once, the dispatcher checks it and passes the same bytes to
 * every writer, and the writer decodes it straight into tweets.
 *
 *   WeatherTweetRequest: 1 municipality (enum), 2 temperature (int32),
 *                        3 humidity (int32), 4 weather (enum), 5 id (string)
 *   WeatherTweetBatch:   1 tweets (repeated WeatherTweetRequest)
 */
import {
  formatErrors,
  HUMIDITY_MAX,
  HUMIDITY_MIN,
  ID_PATTERN,
  MUNICIPALITIES,
  TEMPERATURE_MAX,
  TEMPERATURE_MIN,
  WEATHERS,
  type FieldError,
  type Tweet,
} from '@tweets/tweet';

const MUNICIPALITY_NUMBER: Record<string, number> = Object.fromEntries(MUNICIPALITIES.map((m, i) => [m, i + 1]));
const WEATHER_NUMBER: Record<string, number> = Object.fromEntries(WEATHERS.map((w, i) => [w, i + 1]));

function varintSize(v: number): number {
  if (v < 0) return 10; // int32 negatives are sign-extended to 64 bits
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  if (v < 0) {
    // Two's complement over 64 bits: the low 32 bits, then all ones.
    let lo = v >>> 0;
    for (let i = 0; i < 4; i++) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = (lo & 0x0f) | 0x70 | 0x80; // bits 28-31 of lo, bits 32-34 set
    for (let i = 0; i < 4; i++) buf[pos++] = 0xff;
    buf[pos++] = 0x01;
    return pos;
  }
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** The encoded size of one WeatherTweetRequest (proto3: zero values are left out). */
function requestSize(t: Tweet): number {
  let n = 2 + 2; // municipality and weather: never zero, one-byte tag and value
  if (t.temperature !== 0) n += 1 + varintSize(t.temperature);
  if (t.humidity !== 0) n += 1 + varintSize(t.humidity);
  const idLen = Buffer.byteLength(t.id);
  if (idLen > 0) n += 1 + varintSize(idLen) + idLen;
  return n;
}

function writeRequest(buf: Buffer, pos: number, t: Tweet): number {
  buf[pos++] = 0x08;
  buf[pos++] = MUNICIPALITY_NUMBER[t.municipality] ?? 0;
  if (t.temperature !== 0) {
    buf[pos++] = 0x10;
    pos = writeVarint(buf, pos, t.temperature);
  }
  if (t.humidity !== 0) {
    buf[pos++] = 0x18;
    pos = writeVarint(buf, pos, t.humidity);
  }
  buf[pos++] = 0x20;
  buf[pos++] = WEATHER_NUMBER[t.weather] ?? 0;
  const idLen = Buffer.byteLength(t.id);
  if (idLen > 0) {
    buf[pos++] = 0x2a;
    pos = writeVarint(buf, pos, idLen);
    pos += buf.write(t.id, pos, 'latin1');
  }
  return pos;
}

/** One WeatherTweetRequest. Ids are ASCII (ID_PATTERN), so latin1 writes them as UTF-8. */
export function encodeRequest(t: Tweet): Buffer {
  const buf = Buffer.allocUnsafe(requestSize(t));
  writeRequest(buf, 0, t);
  return buf;
}

/** A WeatherTweetBatch of already valid tweets. */
export function encodeBatch(tweets: readonly Tweet[]): Buffer {
  let size = 0;
  const sizes = new Array<number>(tweets.length);
  for (let i = 0; i < tweets.length; i++) {
    const s = requestSize(tweets[i]!);
    sizes[i] = s;
    size += 1 + varintSize(s) + s;
  }
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  for (let i = 0; i < tweets.length; i++) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, sizes[i]!);
    pos = writeRequest(buf, pos, tweets[i]!);
  }
  return buf;
}

class Malformed extends Error {}

/** Reads a varint as a JS number (int32 semantics for values past 2^31, as protobuf does for int32 fields). */
function readVarint(buf: Uint8Array, pos: number, end: number): [number, number] {
  let lo = 0;
  let shift = 0;
  let b: number;
  do {
    if (pos >= end) throw new Malformed('truncated varint');
    b = buf[pos++]!;
    if (shift < 32) lo |= (b & 0x7f) << shift;
    shift += 7;
    if (shift > 70) throw new Malformed('varint too long');
  } while (b & 0x80);
  return [lo, pos];
}

/** Reads a varint as a non-negative JS number (up to 2^53), for uint64 fields. */
function readUint(buf: Uint8Array, pos: number, end: number): [number, number] {
  let v = 0;
  let mul = 1;
  let b: number;
  do {
    if (pos >= end) throw new Malformed('truncated varint');
    b = buf[pos++]!;
    v += (b & 0x7f) * mul;
    mul *= 128;
    if (mul > 2 ** 63) throw new Malformed('varint too long');
  } while (b & 0x80);
  return [v, pos];
}

function skipField(buf: Uint8Array, pos: number, end: number, wireType: number): number {
  switch (wireType) {
    case 0:
      return readVarint(buf, pos, end)[1];
    case 1:
      pos += 8;
      break;
    case 2: {
      const [len, p] = readVarint(buf, pos, end);
      if (len < 0) throw new Malformed('negative length');
      pos = p + len;
      break;
    }
    case 5:
      pos += 4;
      break;
    default:
      throw new Malformed(`unsupported wire type ${wireType}`);
  }
  if (pos > end) throw new Malformed('truncated field');
  return pos;
}

/**
 * Decodes and checks one WeatherTweetRequest with the API's rules; an empty
 * id is replaced by `makeId()` (a client generated from the seed's proto sends
 * none). Errors name the fields, prefixed with `at`.
 */
function decodeRequestAt(buf: Uint8Array, start: number, end: number, makeId: () => string, at: string, errors: FieldError[]): Tweet | undefined {
  let municipality = 0;
  let temperature = 0;
  let humidity = 0;
  let weather = 0;
  let id = '';
  let pos = start;
  while (pos < end) {
    const [key, p] = readVarint(buf, pos, end);
    pos = p;
    const field = key >>> 3;
    const wt = key & 7;
    if (field === 1 && wt === 0) [municipality, pos] = readVarint(buf, pos, end);
    else if (field === 2 && wt === 0) [temperature, pos] = readVarint(buf, pos, end);
    else if (field === 3 && wt === 0) [humidity, pos] = readVarint(buf, pos, end);
    else if (field === 4 && wt === 0) [weather, pos] = readVarint(buf, pos, end);
    else if (field === 5 && wt === 2) {
      const [len, q] = readVarint(buf, pos, end);
      if (len < 0 || q + len > end) throw new Malformed('truncated id');
      id = Buffer.from(buf.buffer, buf.byteOffset + q, len).toString('utf8');
      pos = q + len;
    } else pos = skipField(buf, pos, end, wt);
  }
  const before = errors.length;
  const m = MUNICIPALITIES[municipality - 1];
  const w = WEATHERS[weather - 1];
  if (!m) errors.push({ field: `${at}municipality`, reason: `must be one of ${MUNICIPALITIES.join(', ')}; got ${municipality === 0 ? 'municipalities_unknown' : municipality}` });
  if (temperature < TEMPERATURE_MIN || temperature > TEMPERATURE_MAX) {
    errors.push({ field: `${at}temperature`, reason: `must be from ${TEMPERATURE_MIN} to ${TEMPERATURE_MAX}; got ${temperature}` });
  }
  if (humidity < HUMIDITY_MIN || humidity > HUMIDITY_MAX) {
    errors.push({ field: `${at}humidity`, reason: `must be from ${HUMIDITY_MIN} to ${HUMIDITY_MAX}; got ${humidity}` });
  }
  if (!w) errors.push({ field: `${at}weather`, reason: `must be one of ${WEATHERS.join(', ')}; got ${weather === 0 ? 'weathers_unknown' : weather}` });
  if (id === '') id = makeId();
  if (!ID_PATTERN.test(id)) errors.push({ field: `${at}id`, reason: 'must be 1 to 128 characters of A-Z a-z 0-9 . _ : -' });
  if (errors.length > before) return undefined;
  return { id, municipality: m!, temperature, humidity, weather: w! };
}

export type Decoded<T> = ({ ok: true; value: T } | { ok: false; errors: FieldError[]; message: string }) & {
  /** A batch's `seq` (SendTweetStream), 0 when absent. */
  seq?: number;
};

function fail<T>(errors: FieldError[], seq = 0): Decoded<T> {
  return { ok: false, errors, message: formatErrors(errors), seq };
}

/** The bytes of WeatherTweetBatch.seq (field 2): appended to an encoded batch, they number it. */
export function encodeSeq(seq: number): Buffer {
  const buf = Buffer.allocUnsafe(1 + varintSize(seq));
  buf[0] = 0x10;
  writeVarint(buf, 1, seq);
  return buf;
}

export function decodeRequest(bytes: Uint8Array, makeId: () => string): Decoded<Tweet> {
  const errors: FieldError[] = [];
  try {
    const t = decodeRequestAt(bytes, 0, bytes.length, makeId, '', errors);
    return t ? { ok: true, value: t } : fail(errors);
  } catch (err) {
    return fail([{ field: '', reason: `malformed WeatherTweetRequest: ${(err as Error).message}` }]);
  }
}

/**
 * Decodes and checks a WeatherTweetBatch: every tweet must carry its id
 * (`makeId` is not used for batches) and pass the API's rules. Any problem
 * fails the whole batch, naming each tweet by index.
 */
export function decodeBatch(bytes: Uint8Array, maxTweets = 100_000): Decoded<Tweet[]> {
  const errors: FieldError[] = [];
  const tweets: Tweet[] = [];
  const noId = () => '';
  let index = 0;
  let seq = 0;
  try {
    let pos = 0;
    const end = bytes.length;
    while (pos < end) {
      const [key, p] = readVarint(bytes, pos, end);
      pos = p;
      if (key === 0x10) {
        [seq, pos] = readUint(bytes, pos, end);
      } else if (key === 0x0a) {
        const [len, q] = readVarint(bytes, pos, end);
        if (len < 0 || q + len > end) throw new Malformed('truncated tweet');
        if (++index > maxTweets) return fail([{ field: 'tweets', reason: `must hold at most ${maxTweets} tweets` }], seq);
        const t = decodeRequestAt(bytes, q, q + len, noId, `tweets[${index - 1}].`, errors);
        if (t) tweets.push(t);
        pos = q + len;
      } else pos = skipField(bytes, pos, end, key & 7);
    }
  } catch (err) {
    return fail([{ field: '', reason: `malformed WeatherTweetBatch: ${(err as Error).message}` }], seq);
  }
  return errors.length > 0 ? fail(errors, seq) : { ok: true, value: tweets, seq };
}
