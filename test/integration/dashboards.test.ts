import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboards, type InfinityTarget } from '@tweets/dashboards';
import { weather, type Tweet } from '@tweets/domain';
import { ROOT, tempDir } from '@tweets/stack';
import { api, COUNT_GUARD_MS, infinity, post, sleep, stack } from './helpers.js';

/**
 * Every panel of the Grafana dashboards, run the way Grafana would against
 * the test stack after a known load: the Infinity queries (the API's JSON,
 * with the panel's URL, root selector and columns) give exact counts; the
 * Prometheus queries (PromQL through Prometheus's HTTP API, scraping the
 * services) give data, and the counters exactly what was sent. Then the live
 * view page, in headless Chromium, draws the bars /stats holds.
 */

type Panel = { type: string; title: string; targets?: (Record<string, unknown> & { datasource: { type: string; uid: string } })[] };
type Dash = { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; current: { value: string } }[] } };
const all = dashboards() as Record<string, Dash>;
const prom = `http://127.0.0.1:${stack.ports.prometheus}`;

async function promQuery(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(expr)}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  assert.equal(body.status, 'success', `${expr}: ${body.error}`);
  return body.data.result;
}

/** A sample's value in a service's own /metrics (the line that starts with `prefix`). */
async function exposed(url: string, prefix: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  assert.ok(line, `${url} exposes ${prefix}`);
  return Number(line!.slice(line!.lastIndexOf(' ') + 1));
}

const sum = async (expr: string) => (await promQuery(expr)).reduce((s, r) => s + Number(r.value[1]), 0);

/** Waits until Prometheus's last scrape shows the expression at `want` or more (bounded by time, not speed). */
async function scraped(expr: string, want: number): Promise<number> {
  const until = Date.now() + COUNT_GUARD_MS;
  let got = await sum(expr);
  while (got < want && Date.now() < until) {
    await sleep(1000);
    got = await sum(expr);
  }
  return got;
}

const group = 'chinautla';
const sent: Tweet[] = weather.fields.weather.values.flatMap((w, i) =>
  Array.from({ length: 3 + i }, (_, k) => ({
    id: `dash-${Date.now()}-${w}-${k}`,
    municipality: group,
    temperature: 20 + i,
    humidity: 40 + k,
    weather: w,
  })),
);
let barsBefore: Record<string, Record<string, number>>;
let promBefore: { accepted: number; applied: Record<string, number> };

before(async () => {
  const res = await fetch(`${prom}/-/ready`);
  assert.equal(res.status, 200, 'the stack runs Prometheus');
  const bars = all['dashboards/weather-reports.json']!.panels.find((p) => p.type === 'barchart')!;
  barsBefore = Object.fromEntries(
    (await infinity(bars.targets![0] as unknown as InfinityTarget, { municipality: group })).map((r) => [
      String(r.Weather),
      r as Record<string, number>,
    ]),
  );
  // The counters as the services hold them now, and Prometheus caught up with them: the load's increase is then exact.
  const consumerPort = { kafka: stack.ports.kafkaConsumer, rabbitmq: stack.ports.rabbitmqConsumer } as Record<string, number>;
  promBefore = {
    accepted: await exposed(`${api}/metrics`, 'tweets_received_total{outcome="accepted"'),
    applied: Object.fromEntries(
      await Promise.all(
        weather.paths.map(
          async (p) =>
            [
              p,
              await exposed(`http://127.0.0.1:${consumerPort[p]}/metrics`, `consumer_tweets_total{path="${p}",outcome="applied"`),
            ] as const,
        ),
      ),
    ),
  };
  assert.equal(
    await scraped('sum(tweets_received_total{outcome="accepted"})', promBefore.accepted),
    promBefore.accepted,
    'Prometheus has scraped the API',
  );
  // In two halves, the second after Prometheus scraped the first: a rate (and a latency quantile) needs an
  // increase between two scrapes, as a panel during a load has.
  const half = Math.floor(sent.length / 2);
  for (const [i, t] of sent.entries()) {
    if (i === half) await scraped('sum(tweets_received_total{outcome="accepted"})', promBefore.accepted + half);
    const { id, ...body } = t;
    let r = await post(body, { 'idempotency-key': id });
    for (let k = 0; r.status === 503 && k < 20; k++) r = await post(body, { 'idempotency-key': id });
    assert.equal(r.status, 202);
  }
});

test('the committed dashboards are what the code generates, and name only provisioned data sources', () => {
  const provisioned = readFileSync(join(ROOT, 'deploy', 'grafana', 'datasources.yaml'), 'utf8');
  for (const [file, d] of Object.entries(all)) {
    assert.equal(
      readFileSync(join(ROOT, 'deploy', 'grafana', file), 'utf8'),
      `${JSON.stringify(d, null, 2)}\n`,
      `${file}: run npm run dashboards`,
    );
    assert.ok(d.uid && d.title && d.panels.length > 0);
    for (const p of d.panels) {
      assert.ok(p.targets && p.targets.length > 0, `${d.title} / ${p.title}: has queries`);
      for (const t of p.targets)
        assert.match(
          provisioned,
          new RegExp(`uid: ${t.datasource.uid}\\n\\s+type: ${t.datasource.type}`),
          `${p.title}: data source ${t.datasource.uid} is provisioned`,
        );
    }
  }
  const w = all['dashboards/weather-reports.json']!;
  assert.deepEqual(
    w.templating.list.map((v) => [v.name, v.current.value]),
    [['municipality', 'mixco']],
    'a municipality variable, mixco by default',
  );
});

test('the bar chart counts exactly what was sent, per weather condition, on both paths; every other panel of the weather dashboard has data', async () => {
  const w = all['dashboards/weather-reports.json']!;
  const bars = w.panels.find((p) => p.type === 'barchart')!;
  const want = Object.fromEntries(weather.fields.weather.values.map((c) => [c, sent.filter((t) => t.weather === c).length]));
  const until = Date.now() + COUNT_GUARD_MS;
  let rows: Record<string, string | number>[];
  const delta = (r: Record<string, string | number>, col: string) => Number(r[col]) - Number(barsBefore[String(r.Weather)]![col]);
  for (;;) {
    rows = await infinity(bars.targets![0] as unknown as InfinityTarget, { municipality: group });
    if (
      rows.every((r) => delta(r, 'Kafka') >= want[String(r.Weather)]! && delta(r, 'RabbitMQ') >= want[String(r.Weather)]!) ||
      Date.now() > until
    )
      break;
    await sleep(250);
  }
  assert.deepEqual(
    rows.map((r) => String(r.Weather)),
    [...weather.fields.weather.values],
    'a bar group per condition, in the domain order',
  );
  for (const r of rows) {
    assert.equal(delta(r, 'Kafka'), want[String(r.Weather)], `${r.Weather} on Kafka`);
    assert.equal(delta(r, 'RabbitMQ'), want[String(r.Weather)], `${r.Weather} on RabbitMQ`);
  }
  for (const p of w.panels.filter((x) => x !== bars)) {
    for (const t of p.targets!) {
      const r = await infinity(t as unknown as InfinityTarget, { municipality: group });
      assert.ok(r.length > 0, `${p.title}: data`);
    }
  }
});

test('every Prometheus panel of the pipeline dashboard has data after the load, and the counters are exact', async () => {
  const n = sent.length;
  assert.equal(
    await scraped('sum(tweets_received_total{outcome="accepted"})', promBefore.accepted + n),
    promBefore.accepted + n,
    'accepted, as Prometheus scraped it',
  );
  for (const p of weather.paths) {
    const expr = `sum(consumer_tweets_total{path="${p}",outcome="applied"})`;
    assert.equal(await scraped(expr, promBefore.applied[p]! + n), promBefore.applied[p]! + n, `${p}: applied once each`);
  }
  const h = all['dashboards/pipeline-health.json']!;
  for (const p of h.panels) {
    for (const t of p.targets!) {
      const expr = String(t.expr).replaceAll('$__rate_interval', '1m');
      // a rate needs two scrapes since the series began: wait for them (bounded by time, not speed)
      const until = Date.now() + 60_000;
      const shows = (r: { value: [number, string] }[]) => r.length > 0 && r.some((x) => Number.isFinite(Number(x.value[1])));
      let result = await promQuery(expr);
      while (!shows(result) && Date.now() < until) {
        await sleep(1000);
        result = await promQuery(expr);
      }
      assert.ok(result.length > 0, `${p.title}: ${expr} returns data`);
      assert.ok(shows(result), `${p.title}: ${expr} gives a number (${result.map((r) => r.value[1]).join(', ')})`);
    }
  }
});

test('the live view draws the bars /stats holds, in headless Chromium', async (t) => {
  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
  assert.ok(chromium, "Chromium is installed (Debian's chromium; npm test provisions it)");
  const url = `http://127.0.0.1:${stack.ports.view}/?group=${group}`;
  const dir = tempDir('view-');
  const flags = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${dir}`,
    '--virtual-time-budget=4000',
  ];
  const dom = spawnSync(chromium!, [...flags, '--dump-dom', url], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(dom.status, 0, dom.stderr);
  const bars = [...dom.stdout.matchAll(/<rect class="bar" data-weather="(\w+)" data-path="(\w+)" data-count="(\d+)"/g)].map((m) => ({
    weather: m[1]!,
    path: m[2]!,
    count: Number(m[3]),
  }));
  const stats = (await (await fetch(`${api}/stats`)).json()) as {
    paths: Record<string, { counts: Record<string, Record<string, number>> }>;
  };
  assert.equal(bars.length, weather.fields.weather.values.length * weather.paths.length, 'a bar per condition and path');
  for (const b of bars)
    assert.equal(b.count, stats.paths[b.path]!.counts[group]![b.weather], `${b.path} ${b.weather}: the bar shows /stats' count`);
  const png = join(ROOT, '.data', stack.name, 'live-view.png');
  const shot = spawnSync(chromium!, [...flags, '--window-size=960,560', `--screenshot=${png}`, url], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(shot.status, 0, shot.stderr);
  assert.ok(readFileSync(png).subarray(1, 4).toString() === 'PNG', 'a PNG screenshot');
  t.diagnostic(`screenshot: ${png}`);
});
