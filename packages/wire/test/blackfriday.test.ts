import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blackfriday, type Sale } from '@tweets/domain';
import { contract } from '../src/index.js';

const c = contract(blackfriday);
const loader = c.service;
const { encodeRequest, encodeBatch, decodeRequest, decodeBatch } = c.codec;

test('the Black Friday service keeps the seed name, package and rpc; the batch rpcs stand beside it', () => {
  assert.equal(c.serviceName, 'blackfriday.ProductSaleService');
  assert.equal(loader.ProcesarVenta!.path, '/blackfriday.ProductSaleService/ProcesarVenta');
  assert.equal(loader.ProcesarVentas!.path, '/blackfriday.ProductSaleService/ProcesarVentas');
  assert.equal(loader.ProcesarVentasStream!.path, '/blackfriday.ProductSaleService/ProcesarVentasStream');
});

test('a sale encodes with the seed field numbers: enum varint, string, double (64 bits), int32; id is field 5', () => {
  const s: Sale = { categoria: 'Ropa', producto_id: 'A1', precio: 2.5, cantidad_vendida: 3, id: 'k' };
  // field 1 varint 2 (Ropa), field 2 "A1", field 3 fixed64 2.5, field 4 varint 3, field 5 "k"
  const expected = [0x08, 2, 0x12, 2, 0x41, 0x31, 0x19, 0, 0, 0, 0, 0, 0, 0x04, 0x40, 0x20, 3, 0x2a, 1, 0x6b];
  assert.deepEqual([...loader.ProcesarVenta!.requestSerialize(s)], expected);
  assert.deepEqual([...encodeRequest(s)], expected);
});

function samples(): Sale[] {
  const cats = blackfriday.fields.categoria.values;
  const out: Sale[] = [];
  let i = 0;
  for (const precio of [0, 0.01, 0.1, 19.99, 1234.56, 999_999.99, 1_000_000]) {
    for (const cantidad_vendida of [1, 2, 127, 128, 10_000]) {
      out.push({
        id: `s-${i}`,
        categoria: cats[i % 4]!,
        producto_id: `${'SKU-'.repeat((i % 16) + 1)}${i}`.slice(0, 64),
        precio,
        cantidad_vendida,
      });
      i++;
    }
  }
  return out;
}

test("the direct codec and the proto loader read each other's sales, strings and doubles included", () => {
  for (const s of samples()) {
    const ours = encodeRequest(s);
    const theirs = loader.ProcesarVenta!.requestSerialize(s);
    if (s.precio !== 0) assert.deepEqual([...ours], [...theirs], JSON.stringify(s));
    assert.deepEqual(loader.ProcesarVenta!.requestDeserialize(ours), s);
    assert.deepEqual(
      decodeRequest(ours, () => 'unused'),
      { ok: true, value: s },
    );
    assert.deepEqual(
      decodeRequest(theirs, () => 'unused'),
      { ok: true, value: s },
    );
  }
  const batch = samples();
  assert.deepEqual(loader.ProcesarVentas!.requestDeserialize(encodeBatch(batch)), { ventas: batch, seq: 0 });
  assert.deepEqual(decodeBatch(loader.ProcesarVentas!.requestSerialize({ ventas: batch })), { ok: true, value: batch, seq: 0 });
});

test("a seed client's sale without id gets one; a missing category, a bad price, an empty product are refused by name", () => {
  const seed = (m: object) => loader.ProcesarVenta!.requestSerialize(m);
  assert.deepEqual(
    decodeRequest(seed({ categoria: 'Hogar', producto_id: 'X', precio: 10, cantidad_vendida: 1 }), () => 'made'),
    {
      ok: true,
      value: { id: 'made', categoria: 'Hogar', producto_id: 'X', precio: 10, cantidad_vendida: 1 },
    },
  );
  const bad = decodeRequest(seed({ producto_id: '', precio: 1.005, cantidad_vendida: 0 }), () => 'made');
  assert.ok(!bad.ok);
  assert.deepEqual(
    bad.errors.map((e) => e.field),
    ['categoria', 'producto_id', 'precio', 'cantidad_vendida'],
  );
  assert.match(bad.message, /categoria must be one of Electronica, Ropa, Hogar, Belleza; got CATEGORIA_PRODUCTO_UNSPECIFIED/);
  assert.match(bad.message, /precio must have at most 2 decimals; got 1.005/);
  const batch = decodeBatch(encodeBatch([{ ...samples()[0]!, precio: -1 }]));
  assert.ok(!batch.ok);
  assert.deepEqual(
    batch.errors.map((e) => e.field),
    ['ventas[0].precio'],
  );
});
