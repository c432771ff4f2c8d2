import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec, validateFields, type Domain } from '@tweets/domain';
import { protoCodec } from '../src/codec.js';

/** A domain that is neither of ours, its id's number between its fields': the codec knows only its definition. */
const parcel = {
  name: 'parcel',
  item: 'parcel',
  resource: '/parcels',
  fields: {
    size: { kind: 'enum', number: 1, type: 'Sizes', zero: 'size_unknown', values: ['small', 'large'] },
    grams: { kind: 'int', number: 3, min: 1, max: 30_000, sample: [100, 5000] },
  },
  idNumber: 2,
  groupBy: 'size',
  countBy: 'size',
  sums: ['grams'],
  paths: ['kafka'],
  keyPrefix: 'pc',
  dashboard: { title: 'Parcels', uid: 'parcels', sums: 'averages' },
  proto: {
    package: 'parcels',
    service: 'ParcelService',
    file: 'parcels.proto',
    rpc: { one: 'Send', batch: 'SendMany', stream: 'SendStream' },
    batchField: 'parcels',
    statusField: 'status',
  },
  broker: {
    topic: 'parcels',
    queue: 'parcels',
    consumerGroup: 'parcels',
    contentType: 'application/x-parcel',
    batchContentType: 'application/x-parcels',
  },
} as const satisfies Domain;

test('another domain is a definition: its fields are validated, and both codecs round-trip it by its own field numbers', () => {
  assert.deepEqual(validateFields(parcel, { size: 'large', grams: 250 }), { ok: true, value: { size: 'large', grams: 250 } });
  const bad = validateFields(parcel, { size: 'huge', grams: 0, municipality: 'mixco' });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors.map((e) => e.field).sort(), ['grams', 'municipality', 'size']);
  assert.match(JSON.stringify(bad.errors), /is not a field of a parcel/);
  const p = { id: 'p-1', size: 'small', grams: 1200 } as const;
  const json = jsonCodec(parcel);
  assert.equal(json.json(p), '{"id":"p-1","size":"small","grams":1200}');
  assert.deepEqual(json.decode(json.encode(p)), { ok: true, value: p });
  const proto = protoCodec(parcel);
  // field 1 varint 1 (small), field 3 varint 1200, field 2 "p-1"
  assert.deepEqual([...proto.encodeRequest(p)], [0x08, 1, 0x18, 0xb0, 0x09, 0x12, 3, 0x70, 0x2d, 0x31]);
  assert.deepEqual(
    proto.decodeRequest(proto.encodeRequest(p), () => 'x'),
    { ok: true, value: p },
  );
  const batch = proto.decodeBatch(proto.encodeBatch([p, { ...p, id: 'p-2', grams: 40_000 }]));
  assert.ok(!batch.ok);
  assert.deepEqual(
    batch.errors.map((e) => e.field),
    ['parcels[1].grams'],
  );
  assert.deepEqual(proto.decodeBatch(proto.encodeBatch([p, p, p]), 2), {
    ok: false,
    errors: [{ field: 'parcels', reason: 'must hold at most 2 parcels' }],
    message: 'parcels must hold at most 2 parcels',
    seq: 0,
  });
});
