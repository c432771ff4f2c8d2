import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  blackfriday,
  domainFromEnv,
  fieldList,
  jsonCodec,
  sumsOf,
  validateFields,
  validateId,
  validateItem,
  weather,
  type Tweet,
} from '../src/index.js';

const MUNICIPALITIES = weather.fields.municipality.values;
const WEATHERS = weather.fields.weather.values;
const validateTweet = (body: unknown) => validateFields(weather, body);
const validateIdentifiedTweet = (body: unknown) => validateItem(weather, body);
const {
  encode: encodeTweet,
  decode: decodeTweet,
  encodeBatch: encodeTweetBatch,
  decodeBatch: decodeTweetBatch,
  encodeBatches: encodeTweetBatches,
} = jsonCodec(weather);

const good = { municipality: 'mixco', temperature: 25, humidity: 60, weather: 'sunny' };

function fieldsOf(body: unknown): string[] {
  const r = validateTweet(body);
  assert.equal(r.ok, false, `expected ${JSON.stringify(body)} to be rejected`);
  return r.ok ? [] : r.errors.map((e) => e.field);
}

test('accepts every municipality and weather of the seed', () => {
  for (const municipality of MUNICIPALITIES) {
    for (const weather of WEATHERS) {
      const r = validateTweet({ ...good, municipality, weather });
      assert.deepEqual(r, { ok: true, value: { ...good, municipality, weather } });
    }
  }
});

test('accepts the range limits', () => {
  for (const [temperature, humidity] of [
    [-50, 0],
    [60, 100],
    [0, 50],
  ] as const) {
    assert.equal(validateTweet({ ...good, temperature, humidity }).ok, true);
  }
});

test('rejects non-objects with the body as the field', () => {
  for (const body of [null, 1, 'x', [], [good], true]) {
    assert.deepEqual(fieldsOf(body), ['']);
  }
});

test('names each missing field', () => {
  assert.deepEqual(fieldsOf({}).sort(), ['humidity', 'municipality', 'temperature', 'weather']);
  const { humidity: _h, ...noHumidity } = good;
  assert.deepEqual(fieldsOf(noHumidity), ['humidity']);
});

test('rejects extra fields by name', () => {
  assert.deepEqual(fieldsOf({ ...good, id: 'x' }), ['id']);
  assert.deepEqual(fieldsOf({ ...good, __proto__x: 1 }), ['__proto__x']);
});

test("the API's form takes an enum by its proto number as well (the proto3 JSON mapping); 0 and others are refused", () => {
  const api = (body: unknown) => validateFields(weather, body, { enumNumbers: true });
  assert.deepEqual(api({ ...good, municipality: 4, weather: 1 }), {
    ok: true,
    value: { ...good, municipality: 'chinautla', weather: 'sunny' },
  });
  assert.deepEqual(api({ ...good, municipality: 'guatemala', weather: 3 }), {
    ok: true,
    value: { ...good, municipality: 'guatemala', weather: 'rainy' },
  });
  for (const municipality of [0, 5, -1, 1.5, '1', 'municipalities_unknown']) {
    const r = api({ ...good, municipality });
    assert.ok(!r.ok, String(municipality));
    assert.deepEqual(
      r.errors.map((e) => e.field),
      ['municipality'],
    );
  }
  const zero = api({ ...good, weather: 0 });
  assert.ok(!zero.ok);
  assert.match(
    zero.errors[0]!.reason,
    /must be one of sunny, cloudy, rainy, foggy \(or their numbers, 1 to 4\); got 0 \(weathers_unknown\)/,
  );
});

test('rejects unknown enum names, the *_unknown zero values, numbers and other casing', () => {
  for (const municipality of ['municipalities_unknown', 'antigua', 'Mixco', 1, 0, null, '']) {
    assert.deepEqual(fieldsOf({ ...good, municipality }), ['municipality']);
  }
  for (const weather of ['weathers_unknown', 'snowy', 'SUNNY', 2, false]) {
    assert.deepEqual(fieldsOf({ ...good, weather }), ['weather']);
  }
});

test('rejects wrong types, non-integers and out-of-range numbers', () => {
  for (const humidity of [-1, 101, 50.5, '50', null, Number.NaN, 1e9]) {
    assert.deepEqual(fieldsOf({ ...good, humidity }), ['humidity']);
  }
  for (const temperature of [-51, 61, 20.1, '20', [], {}, 2 ** 31]) {
    assert.deepEqual(fieldsOf({ ...good, temperature }), ['temperature']);
  }
});

test('reports every problem at once, with a reason', () => {
  const r = validateTweet({ municipality: 'x', temperature: 'hot', humidity: 500, extra: 1 });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.deepEqual(r.errors.map((e) => e.field).sort(), ['extra', 'humidity', 'municipality', 'temperature', 'weather']);
    for (const e of r.errors) assert.ok(e.reason.length > 5);
  }
});

test('ids: printable and bounded', () => {
  assert.equal(validateId('abc-123_X.y:z').ok, true);
  assert.equal(validateId('a'.repeat(128)).ok, true);
  for (const id of ['', 'a'.repeat(129), 'with space', 'ñ', 'a/b', 'a{b}', 5, undefined]) {
    assert.equal(validateId(id).ok, false, String(id));
  }
});

test('broker encoding round-trips and rejects poison', () => {
  const t: Tweet = { id: 'k-1', ...good } as Tweet;
  assert.deepEqual(decodeTweet(encodeTweet(t)), { ok: true, value: t });
  assert.equal(decodeTweet(Buffer.from('not json')).ok, false);
  assert.equal(decodeTweet(Buffer.from(JSON.stringify(good))).ok, false, 'no id');
  assert.equal(validateIdentifiedTweet({ ...t, humidity: 101 }).ok, false);
  const sub = encodeTweet(t);
  assert.equal(decodeTweet(new Uint8Array(sub.buffer, sub.byteOffset, sub.byteLength)).ok, true);
});

test('a batch message round-trips; each invalid element is poison alone; a non-array is poison whole', () => {
  const a: Tweet = { id: 'b-1', ...good } as Tweet;
  const b: Tweet = { id: 'b-2', ...good, temperature: -3, weather: 'foggy' } as Tweet;
  const d = decodeTweetBatch(encodeTweetBatch([a, b]));
  assert.ok(d.ok);
  assert.deepEqual(d.value.items, [a, b]);
  assert.deepEqual(d.value.invalid, []);
  assert.deepEqual(decodeTweetBatch(encodeTweetBatch([])), { ok: true, value: { items: [], invalid: [] } });

  const mixed = decodeTweetBatch(JSON.stringify([a, { ...b, humidity: 101 }, 'x']));
  assert.ok(mixed.ok);
  assert.deepEqual(
    mixed.value.items.map((t) => t.id),
    ['b-1'],
  );
  assert.deepEqual(
    mixed.value.invalid.map((i) => [i.index, i.errors[0]!.field]),
    [
      [1, 'humidity'],
      [2, ''],
    ],
  );
  assert.deepEqual(JSON.parse(mixed.value.invalid[0]!.json), { ...b, humidity: 101 });

  assert.equal(decodeTweetBatch('not json').ok, false);
  const obj = decodeTweetBatch(encodeTweet(a));
  assert.ok(!obj.ok);
  assert.match(obj.errors[0]!.reason, /must be a JSON array; got object/);
});

test('tweets split into batch messages of up to max, in order, each named by its first tweet', () => {
  const ts = Array.from({ length: 5 }, (_, i) => ({ id: `s-${i}`, ...good }) as Tweet);
  const ms = encodeTweetBatches(ts, 2);
  assert.deepEqual(
    ms.map((m) => [m.messageId, m.count]),
    [
      ['s-0+1', 2],
      ['s-2+1', 2],
      ['s-4+0', 1],
    ],
  );
  assert.deepEqual(
    ms.flatMap((m) => JSON.parse(m.body.toString()) as Tweet[]),
    ts,
  );
  assert.deepEqual(encodeTweetBatches([], 2), []);
});

test("the weather definition keeps the seed's enum names and numbers, and the field numbers of the seed's proto", () => {
  assert.deepEqual(
    fieldList(weather).map((f) => [f.name, f.number]),
    [
      ['municipality', 1],
      ['temperature', 2],
      ['humidity', 3],
      ['weather', 4],
    ],
  );
  assert.deepEqual(
    [weather.fields.municipality.zero, ...MUNICIPALITIES],
    ['municipalities_unknown', 'mixco', 'guatemala', 'amatitlan', 'chinautla'],
  );
  assert.deepEqual([weather.fields.weather.zero, ...WEATHERS], ['weathers_unknown', 'sunny', 'cloudy', 'rainy', 'foggy']);
  assert.equal(weather.idNumber, 5);
});

test("a Black Friday sale: the seed's category names or numbers, a bounded product id, a price with at most 2 decimals, whole units", () => {
  const good = { categoria: 'Electronica', producto_id: 'SKU-1', precio: 19.99, cantidad_vendida: 2 };
  assert.deepEqual(validateFields(blackfriday, good), { ok: true, value: good });
  assert.deepEqual(validateFields(blackfriday, { ...good, categoria: 4 }, { enumNumbers: true }), {
    ok: true,
    value: { ...good, categoria: 'Belleza' },
  });
  const reasons = (body: object, enumNumbers = true) => {
    const v = validateFields(blackfriday, body, { enumNumbers });
    return v.ok ? [] : v.errors.map((e) => `${e.field} ${e.reason}`);
  };
  assert.match(reasons({ ...good, categoria: 'Juguetes' })[0]!, /^categoria must be one of Electronica, Ropa, Hogar, Belleza/);
  assert.match(reasons({ ...good, categoria: 0 })[0]!, /CATEGORIA_PRODUCTO_UNSPECIFIED/);
  assert.match(reasons({ ...good, producto_id: '' })[0]!, /^producto_id must be 1 to 64 characters/);
  assert.match(reasons({ ...good, producto_id: 'x'.repeat(65) })[0]!, /^producto_id must be 1 to 64/);
  assert.match(reasons({ ...good, producto_id: 7 })[0]!, /^producto_id must be a string/);
  assert.match(reasons({ ...good, precio: 19.999 })[0]!, /^precio must have at most 2 decimals; got 19.999/);
  assert.match(reasons({ ...good, precio: -0.01 })[0]!, /^precio must be from 0 to 1000000/);
  assert.match(reasons({ ...good, precio: '19.99' })[0]!, /^precio must be a number/);
  assert.match(reasons({ ...good, cantidad_vendida: 0 })[0]!, /^cantidad_vendida must be from 1 to 10000/);
  assert.match(reasons({ ...good, cantidad_vendida: 1.5 })[0]!, /^cantidad_vendida must be an integer/);
  // Prices that are exact in cents but not in binary are taken: 0.1 + 0.2, 1.13, 4.35 × 100 is 434.99999...
  for (const precio of [0.3, 1.13, 4.35, 999_999.99]) assert.deepEqual(reasons({ ...good, precio }), [], String(precio));
});

test('sales sum their units and their revenue in cents, per category', () => {
  const sums = sumsOf(blackfriday);
  assert.deepEqual(
    sums.map((s) => [s.name, s.scale]),
    [
      ['cantidad_vendida', 1],
      ['ingresos', 0.01],
    ],
  );
  const sale = { id: 's', categoria: 'Hogar', producto_id: 'P', precio: 4.35, cantidad_vendida: 3 };
  assert.deepEqual(
    sums.map((s) => s.of(sale)),
    [3, 1305],
  );
  assert.equal(jsonCodec(blackfriday).json(sale), '{"id":"s","categoria":"Hogar","producto_id":"P","precio":4.35,"cantidad_vendida":3}');
  assert.deepEqual(jsonCodec(blackfriday).decode('{"id":"s","categoria":"Hogar","producto_id":"P","precio":4.35,"cantidad_vendida":3}'), {
    ok: true,
    value: sale,
  });
});

test('DOMAIN picks the domain; an unknown name is an error naming the known ones', () => {
  assert.equal(domainFromEnv({}), weather);
  assert.equal(domainFromEnv({ DOMAIN: 'blackfriday' }), blackfriday);
  assert.throws(() => domainFromEnv({ DOMAIN: 'sales' }), /DOMAIN must be one of weather, blackfriday; got "sales"/);
});
