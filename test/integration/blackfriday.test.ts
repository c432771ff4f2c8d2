import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { blackfriday, sumsOf, type BlackFridayDomain, type SaleFields } from '@tweets/domain';
import type { StatsOf } from '@tweets/store/stats';
import { fetchStats, rng, runLoad, waitForCounts } from '@tweets/loadgen';
import { reconfigureStack, readState, tempDir } from '@tweets/stack';
import { grpc } from '@tweets/wire';
import { dashboards, type InfinityTarget } from '@tweets/dashboards';
import { ensureRegistry } from '@tweets/stack/images';
import { buildDataset, orasBinary, pushArtifact } from '@tweets/stack/loadtest';
import { checkCounts, ensureLocust, runLocust } from '@tweets/stack/locust';
import { api, infinity, killUnderLoad, pidOf, sleep, stack, uniq, COUNT_GUARD_MS } from './helpers.js';

// The Black Friday domain on the same stack: its services replace the weather
// ones (Kafka only: the RabbitMQ writer and consumer stay stopped), the brokers
// and Valkey keep running; the weather services come back afterwards.
before(async () => reconfigureStack(stack, { domain: 'blackfriday' }), { timeout: 600_000 });
after(async () => reconfigureStack(stack), { timeout: 600_000 });

type Stats = StatsOf<BlackFridayDomain>;
const CATEGORIAS = blackfriday.fields.categoria.values;

/** The seed's Black Friday proto exactly (no zero enum value, no id, no extensions): what a student's generated client sends. */
const SEED_PROTO = `
syntax = "proto3";
package blackfriday;
option go_package = "./proto";
message ProductSaleRequest {
  CategoriaProducto categoria = 1;
  string producto_id = 2;
  double precio = 3;
  int32 cantidad_vendida = 4;
}
enum CategoriaProducto {
  Electronica = 1;
  Ropa = 2;
  Hogar = 3;
  Belleza = 4;
}
message ProductSaleResponse {
  string estado = 1;
}
service ProductSaleService {
  rpc ProcesarVenta (ProductSaleRequest) returns (ProductSaleResponse);
}
`;

async function postSale(body: unknown, key?: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${api}/sales`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, json: await res.json() };
}

/** Per category: reports, units, revenue in cents (integers, so sums compare exactly). */
function tally(sales: readonly SaleFields[]): Record<string, { reports: number; units: number; cents: number }> {
  const [units, revenue] = sumsOf(blackfriday);
  const out = Object.fromEntries(CATEGORIAS.map((c) => [c, { reports: 0, units: 0, cents: 0 }]));
  for (const s of sales) {
    const t = out[s.categoria]!;
    const item = { id: '', ...s };
    t.reports++;
    t.units += units!.of(item);
    t.cents += revenue!.of(item);
  }
  return out;
}

/** What /stats grew by per category, revenue back in cents. */
function grown(before: Stats, after: Stats): Record<string, { reports: number; units: number; cents: number }> {
  const b = before.paths.kafka.totals;
  const a = after.paths.kafka.totals;
  return Object.fromEntries(
    CATEGORIAS.map((c) => [
      c,
      {
        reports: a[c].reports - b[c].reports,
        units: a[c].cantidad_vendida - b[c].cantidad_vendida,
        cents: Math.round(a[c].ingresos * 100) - Math.round(b[c].ingresos * 100),
      },
    ]),
  );
}

/** A known multiset: category i gets 300 + 150·i sales, each price and quantity its own, shuffled. */
function knownSales(): SaleFields[] {
  const sales: SaleFields[] = [];
  CATEGORIAS.forEach((categoria, i) => {
    for (let k = 0; k < 300 + 150 * i; k++)
      sales.push({ categoria, producto_id: `P-${i}-${k % 37}`, precio: ((k * 7919) % 100_000) / 100, cantidad_vendida: 1 + (k % 9) });
  });
  const next = rng(11);
  for (let j = sales.length - 1; j > 0; j--) {
    const r = Math.floor(next() * (j + 1));
    [sales[j], sales[r]] = [sales[r]!, sales[j]!];
  }
  return sales;
}

test('the stack runs the Black Friday services on Kafka only', () => {
  const s = readState(stack)!;
  assert.equal(s.domain, 'blackfriday');
  assert.equal(s.components['writer-rabbitmq']!.status, 'stopped');
  assert.equal(s.components['rabbitmq-consumer']!.status, 'stopped');
  assert.equal(s.components['kafka-consumer']!.status, 'ready');
});

test('known sales through POST /sales are counted exactly per category, with their units and revenue to the cent; bad input adds nothing', async () => {
  const before = await fetchStats<BlackFridayDomain>(api);
  assert.deepEqual(Object.keys(before.paths), ['kafka'], 'Kafka is the only path');
  const sales = knownSales();
  const result = await runLoad({
    domain: blackfriday,
    url: api,
    count: sales.length,
    concurrency: 10,
    idPrefix: uniq('bf-e2e'),
    tweets: sales,
    retry: { maxTotalMs: 60_000 },
  });
  assert.equal(result.accepted, sales.length, JSON.stringify(result.errors));
  // Bad sales, each refused with the field named; none may reach Kafka.
  const bad: [unknown, string][] = [
    [{ categoria: 'Juguetes', producto_id: 'A', precio: 1, cantidad_vendida: 1 }, 'categoria'],
    [{ categoria: 0, producto_id: 'A', precio: 1, cantidad_vendida: 1 }, 'categoria'],
    [{ categoria: 'Ropa', producto_id: '', precio: 1, cantidad_vendida: 1 }, 'producto_id'],
    [{ categoria: 'Ropa', producto_id: 'A', precio: 10.001, cantidad_vendida: 1 }, 'precio'],
    [{ categoria: 'Ropa', producto_id: 'A', precio: -5, cantidad_vendida: 1 }, 'precio'],
    [{ categoria: 'Ropa', producto_id: 'A', precio: 5, cantidad_vendida: 0 }, 'cantidad_vendida'],
    [{ categoria: 'Ropa', producto_id: 'A', precio: 5 }, 'cantidad_vendida'],
  ];
  for (const [body, field] of bad) {
    const r = await postSale(body);
    assert.equal(r.status, 422, JSON.stringify(body));
    assert.ok(
      r.json.errors.some((e: { field: string }) => e.field === field),
      `${JSON.stringify(r.json)} names ${field}`,
    );
  }
  // One more good sale after the bad ones: once it is counted, everything before it is too.
  const last = { categoria: 'Belleza' as const, producto_id: 'LAST', precio: 0.5, cantidad_vendida: 2 };
  assert.equal((await postSale(last, uniq('bf-last'))).status, 202);
  const all = [...sales, last];
  const { reached, stats } = await waitForCounts(api, before, { kafka: all.length }, COUNT_GUARD_MS);
  assert.ok(reached, 'every accepted sale counted');
  await sleep(1000); // a bad sale that had slipped through would be counted by now
  const after = await fetchStats<BlackFridayDomain>(api);
  assert.equal(after.paths.kafka.total - before.paths.kafka.total, all.length, 'exactly the good sales');
  assert.deepEqual(grown(before, after), tally(all));
  assert.deepEqual(stats.paths.kafka.byCategoria, after.paths.kafka.byCategoria);
  // What the dashboard reads: a bar per category (GET /stats/breakdown), and the chosen category's totals.
  const rows = (await (await fetch(`${api}/stats/breakdown?group=Ropa`)).json()) as { categoria: string; kafka: number }[];
  assert.deepEqual(
    rows,
    CATEGORIAS.map((c) => ({ categoria: c, kafka: after.paths.kafka.byCategoria[c] })),
  );
  const totals = (await (await fetch(`${api}/stats/totals?group=Ropa`)).json()) as unknown;
  assert.deepEqual(totals, [{ path: 'kafka', ...after.paths.kafka.totals.Ropa }]);
  // Every panel of the Black Friday dashboard, run as Grafana's Infinity would, for the category Ropa.
  type Panel = { type: string; title: string; targets: InfinityTarget[] };
  const dash = dashboards()['blackfriday/dashboards/blackfriday-sales.json'] as {
    panels: Panel[];
    templating: { list: { name: string }[] };
  };
  assert.deepEqual(
    dash.templating.list.map((v) => v.name),
    ['categoria'],
    'the category is a variable',
  );
  for (const p of dash.panels) {
    const got = await infinity(p.targets[0]!, { categoria: 'Ropa' });
    if (p.type === 'barchart')
      assert.deepEqual(
        got,
        CATEGORIAS.map((c) => ({ Categoria: c, Kafka: after.paths.kafka.byCategoria[c] })),
        p.title,
      );
    if (p.title.startsWith('Total ingresos'))
      assert.deepEqual(got, [{ Path: 'kafka', Ingresos: after.paths.kafka.totals.Ropa.ingresos }], p.title);
  }
});

test("a client generated from the seed's Black Friday proto calls ProcesarVenta on the writer unchanged", async () => {
  const before = await fetchStats<BlackFridayDomain>(api);
  const dir = tempDir('seed-bf-');
  writeFileSync(join(dir, 'seed.proto'), SEED_PROTO);
  const def = protoLoader.loadSync(join(dir, 'seed.proto'), { keepCase: true, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.blackfriday.ProductSaleService(`127.0.0.1:${stack.ports.kafkaWriter}`, grpc.credentials.createInsecure());
  const call = (req: object): Promise<{ estado: string }> =>
    new Promise((resolve, reject) =>
      client.ProcesarVenta(req, { deadline: Date.now() + 30_000 }, (err: Error | null, res: { estado: string }) =>
        err ? reject(err) : resolve(res),
      ),
    );
  try {
    const res = await call({ categoria: 'Hogar', producto_id: 'SEED-1', precio: 129.9, cantidad_vendida: 3 });
    assert.equal(res.estado, 'ok');
    await assert.rejects(call({ producto_id: 'SEED-2', precio: 5, cantidad_vendida: 1 }), (err: any) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /categoria must be one of Electronica, Ropa, Hogar, Belleza/);
      return true;
    });
    await assert.rejects(
      call({ categoria: 'Ropa', producto_id: 'SEED-3', precio: 5.555, cantidad_vendida: 1 }),
      /precio must have at most 2 decimals/,
    );
  } finally {
    client.close();
  }
  const { reached } = await waitForCounts(api, before, { kafka: 1 }, COUNT_GUARD_MS);
  assert.ok(reached, 'the one valid sale is counted');
  await sleep(500);
  const after = await fetchStats<BlackFridayDomain>(api);
  assert.equal(after.paths.kafka.total - before.paths.kafka.total, 1);
  assert.equal(grown(before, after).Hogar!.cents, 38_970, '129.90 × 3');
});

test('the Kafka consumer killed under load: every sale counted exactly once, per category', { timeout: 900_000 }, async () => {
  const before = await fetchStats<BlackFridayDomain>(api);
  const sales = knownSales();
  const { result, victim } = await killUnderLoad('kafka-consumer', {
    domain: blackfriday,
    url: api,
    count: sales.length,
    concurrency: 10,
    idPrefix: uniq('bf-kill'),
    tweets: sales,
  });
  assert.equal(result.accepted, sales.length, JSON.stringify(result.errors));
  const { reached } = await waitForCounts(api, before, { kafka: sales.length }, COUNT_GUARD_MS);
  assert.ok(reached, 'every accepted sale counted after the restart');
  assert.notEqual(pidOf('kafka-consumer'), victim, 'the consumer was restarted');
  await sleep(2000); // a redelivered sale counted twice would show by now
  const after = await fetchStats<BlackFridayDomain>(api);
  assert.equal(after.paths.kafka.total - before.paths.kafka.total, sales.length, 'no sale counted twice');
  assert.deepEqual(grown(before, after), tally(sales));
});

test(
  "Locust sends the second seed's load: Black Friday sales from an OCI artifact, counted exactly per category",
  { timeout: 900_000 },
  async () => {
    const log = (m: string) => console.log(`# ${m}`);
    const registry = await ensureRegistry(log);
    const orasBin = orasBinary(log);
    const dir = tempDir('loadtest-bf-');
    const d = buildDataset(dir, 500, 7, blackfriday);
    assert.equal(d.resource, '/sales', 'the file says where its items go');
    const pushed = pushArtifact(orasBin, registry, dir, d, 'test');
    assert.match(pushed.reference, /:blackfriday-500-seed7$/);
    const before = await fetchStats<BlackFridayDomain>(api);
    const run = await runLocust({
      locust: ensureLocust(log),
      host: api,
      users: 10,
      artifact: pushed.reference,
      registry,
      oras: orasBin,
      idPrefix: `bf-${Date.now()}:`,
      dir: tempDir('locust-bf-'),
      quiet: true,
    });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.equal(run.results!.accepted, 500);
    const check = await checkCounts(api, before as never, run.results!, blackfriday.paths, COUNT_GUARD_MS);
    assert.deepEqual(check.differences, { kafka: [] });
    assert.ok(check.exact);
  },
);
