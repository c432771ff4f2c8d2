import type { Domain, FieldsOf, Item, ItemOf } from './define.js';

/**
 * The Black Friday sale of the seeds (the "Proyecto 2" documents): a product
 * category, a product id, a unit price and the units sold, with the seed's
 * names and numbers (proto package `blackfriday`). The seed's enum has no
 * zero value, which proto3 requires: `CATEGORIA_PRODUCTO_UNSPECIFIED = 0`
 * stands beside the seed's values and is never valid input. Sales go to Kafka
 * only. The dashboard counts reports per category (one dimension: `countBy`
 * is `groupBy`), and sums the units sold and the revenue (price × units, kept
 * in cents) per category. This is the only place in the code that names them.
 */
export const blackfriday = {
  name: 'blackfriday',
  item: 'sale',
  resource: '/sales',
  fields: {
    categoria: {
      kind: 'enum',
      number: 1,
      type: 'CategoriaProducto',
      zero: 'CATEGORIA_PRODUCTO_UNSPECIFIED',
      values: ['Electronica', 'Ropa', 'Hogar', 'Belleza'],
    },
    producto_id: {
      kind: 'string',
      number: 2,
      pattern: /^[A-Za-z0-9._:/-]{1,64}$/,
      rule: 'must be 1 to 64 characters of A-Z a-z 0-9 . _ : / -',
      samplePrefix: 'SKU-',
      sampleCount: 500,
    },
    /** The unit price, in currency units with cents: 19.99. */
    precio: { kind: 'double', number: 3, min: 0, max: 1_000_000, decimals: 2, sample: [1, 2000] },
    cantidad_vendida: { kind: 'int', number: 4, min: 1, max: 10_000, sample: [1, 5] },
  },
  idNumber: 5,
  groupBy: 'categoria',
  countBy: 'categoria',
  sums: ['cantidad_vendida', 'ingresos'],
  derived: {
    /** Revenue, price × units: summed in cents (integers), shown in currency units. */
    ingresos: { of: (s: Item) => Math.round((s.precio as number) * 100) * (s.cantidad_vendida as number), scale: 0.01 },
  },
  // 0-2 Electronica, 3-5 Ropa, 6-7 Hogar, 8-9 Belleza
  groupByIdDigit: ['Electronica', 'Electronica', 'Electronica', 'Ropa', 'Ropa', 'Ropa', 'Hogar', 'Hogar', 'Belleza', 'Belleza'],
  paths: ['kafka'],
  keyPrefix: 'bf',
  dashboard: { title: 'Black Friday sales', uid: 'blackfriday-sales', sums: 'totals' },
  proto: {
    package: 'blackfriday',
    service: 'ProductSaleService',
    file: 'blackfriday.proto',
    rpc: { one: 'ProcesarVenta', batch: 'ProcesarVentas', stream: 'ProcesarVentasStream' },
    batchField: 'ventas',
    statusField: 'estado',
  },
  broker: {
    topic: 'blackfriday-sales',
    queue: 'blackfriday-sales',
    consumerGroup: 'blackfriday-sales-valkey',
    contentType: 'application/vnd.blackfriday-sale.v1+json',
    batchContentType: 'application/vnd.blackfriday-sale-batch.v1+json',
  },
} as const satisfies Domain;

export type BlackFridayDomain = typeof blackfriday;
export type Sale = ItemOf<BlackFridayDomain>;
export type SaleFields = FieldsOf<BlackFridayDomain>;
