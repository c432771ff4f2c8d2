import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateFields, weather, type WeatherDomain } from '@tweets/domain';
import { fetchStats } from '@tweets/loadgen';
import { ensureRegistry, type Registry } from '@tweets/stack/images';
import {
  ARTIFACT_TYPE,
  buildDataset,
  CONFIG_MEDIA_TYPE,
  LAYER_MEDIA_TYPE,
  oras,
  orasBinary,
  pushArtifact,
  REPOSITORY,
} from '@tweets/stack/loadtest';
import { checkCounts, ensureLocust, runLocust } from '@tweets/stack/locust';
import { api, COUNT_GUARD_MS } from './helpers.js';
import { tempDir } from '@tweets/stack';

/**
 * The seed's load test: the input file generated from a seed, pushed to the
 * OCI registry as an artifact and pulled back; Locust refusing a file that is
 * not what its manifest says; and a Locust run of a small file against the
 * test stack, counted exactly on both paths.
 */

const log = (m: string) => console.log(`# ${m}`);
let registry: Registry;
let orasBin: string;
let locust: string;
const tmp = () => tempDir('loadtest-');
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

before(async () => {
  registry = await ensureRegistry(log);
  orasBin = orasBinary(log);
  locust = ensureLocust(log);
});

test('the input file is the same for the same seed, valid, and its manifest counts it', () => {
  const [a, b, c] = [tmp(), tmp(), tmp()];
  const da = buildDataset(a, 500, 42);
  const db = buildDataset(b, 500, 42);
  const dc = buildDataset(c, 500, 43);
  assert.equal(da.sha256, db.sha256, 'same count and seed, same bytes');
  assert.notEqual(da.sha256, dc.sha256, 'another seed, another file');
  assert.equal(sha(join(a, 'tweets.jsonl')), da.sha256);
  const lines = readFileSync(join(a, 'tweets.jsonl'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 500);
  assert.equal(new Set(lines.map((t) => t.id)).size, 500, 'ids are unique');
  const counts: Record<string, Record<string, number>> = {};
  for (const { id, ...t } of lines) {
    assert.match(String(id), /^lt-42-\d{3}$/);
    assert.ok(validateFields(weather, t).ok, JSON.stringify(t));
    counts[String(t.municipality)] ??= {};
    counts[String(t.municipality)]![String(t.weather)] = (counts[String(t.municipality)]![String(t.weather)] ?? 0) + 1;
  }
  for (const [m, row] of Object.entries(da.counts))
    for (const [w, n] of Object.entries(row)) assert.equal(counts[m]?.[w] ?? 0, n, `${m}/${w}`);
});

test('the artifact round trip: pushed with its type, config and annotations, pulled back with the same digests', () => {
  const dir = tmp();
  const d = buildDataset(dir, 300, 7);
  const pushed = pushArtifact(orasBin, registry, dir, d, 'test-revision');
  assert.equal(pushed.layerDigest, `sha256:${d.sha256}`, 'the layer is the file');
  const manifest = JSON.parse(oras(orasBin, registry, ['manifest', 'fetch', pushed.reference])) as {
    artifactType: string;
    config: { mediaType: string; digest: string };
    layers: { mediaType: string; digest: string; annotations: Record<string, string> }[];
    annotations: Record<string, string>;
  };
  assert.equal(manifest.artifactType, ARTIFACT_TYPE);
  assert.equal(manifest.config.mediaType, CONFIG_MEDIA_TYPE);
  assert.equal(manifest.config.digest, `sha256:${sha(join(dir, 'dataset.json'))}`, 'the config is dataset.json');
  assert.equal(manifest.layers.length, 1);
  assert.equal(manifest.layers[0]!.mediaType, LAYER_MEDIA_TYPE);
  assert.equal(manifest.layers[0]!.annotations['org.opencontainers.image.title'], 'tweets.jsonl');
  assert.equal(manifest.annotations['io.weather-tweets.loadtest.count'], '300');
  assert.equal(manifest.annotations['io.weather-tweets.loadtest.seed'], '7');
  assert.equal(manifest.annotations['org.opencontainers.image.revision'], 'test-revision');
  assert.ok(!Number.isNaN(Date.parse(manifest.annotations['org.opencontainers.image.created']!)));
  const out = tmp();
  oras(orasBin, registry, ['pull', pushed.reference, '--output', out]);
  assert.equal(sha(join(out, 'tweets.jsonl')), d.sha256, 'the pulled file is the pushed one');
  assert.equal(pushed.reference, `${registry.address}/${REPOSITORY}:300-seed7`);
});

test('Locust refuses a file that is not what its manifest says, and a registry it cannot reach', async () => {
  // A file changed after it was pushed (in a folder an init container pulled to).
  const dir = tmp();
  const d = buildDataset(dir, 50, 11);
  const pushed = pushArtifact(orasBin, registry, dir, d, 'test');
  const pulled = tmp();
  oras(orasBin, registry, ['pull', pushed.reference, '--output', pulled]);
  writeFileSync(join(pulled, 'manifest.json'), oras(orasBin, registry, ['manifest', 'fetch', pushed.reference]));
  cpSync(join(dir, 'dataset.json'), join(pulled, 'dataset.json'));
  const good = await runLocust({
    locust,
    host: api,
    users: 2,
    artifactDir: pulled,
    idPrefix: `ok-${Date.now()}:`,
    dir: tmp(),
    quiet: true,
  });
  assert.equal(good.code, 0, `the untouched folder runs: ${good.stderr.slice(-2000)}`);
  appendFileSync(join(pulled, 'tweets.jsonl'), '{"id":"extra","municipality":"mixco","temperature":20,"humidity":50,"weather":"sunny"}\n');
  const local = await runLocust({ locust, host: api, users: 2, artifactDir: pulled, dir: tmp(), quiet: true });
  assert.equal(local.code, 2);
  assert.match(local.stderr, /refusing to start: tweets\.jsonl is not the artifact's layer/);
  assert.equal(local.results, undefined, 'no user started');

  // A changed file pushed with its old manifest: the registry serves it, the digests disagree.
  const forged = tmp();
  const fd = buildDataset(forged, 50, 12);
  appendFileSync(join(forged, 'tweets.jsonl'), '{"id":"extra","municipality":"mixco","temperature":20,"humidity":50,"weather":"sunny"}\n');
  const fp = pushArtifact(orasBin, registry, forged, fd, 'test');
  const remote = await runLocust({ locust, host: api, users: 2, artifact: fp.reference, registry, oras: orasBin, dir: tmp(), quiet: true });
  assert.equal(remote.code, 2);
  assert.match(remote.stderr, /refusing to start: tweets\.jsonl does not match its dataset manifest/);

  const unreachable = await runLocust({
    locust,
    host: api,
    users: 2,
    artifact: '127.0.0.1:1/tweets/loadtest:1-seed1',
    registry,
    oras: orasBin,
    dir: tmp(),
    quiet: true,
  });
  assert.equal(unreachable.code, 2);
  assert.match(unreachable.stderr, /refusing to start: oras manifest fetch/);
});

test('Locust sends the whole file from the registry with 10 users; both paths count it exactly', async () => {
  const dir = tmp();
  const d = buildDataset(dir, 600, 21);
  const pushed = pushArtifact(orasBin, registry, dir, d, 'test');
  const before = await fetchStats<WeatherDomain>(api);
  const run = await runLocust({
    locust,
    host: api,
    users: 10,
    artifact: pushed.reference,
    registry,
    oras: orasBin,
    idPrefix: `e2e-${Date.now()}:`,
    dir: tmp(),
    quiet: true,
  });
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  const r = run.results!;
  assert.equal(r.count, 600);
  assert.equal(r.accepted, 600);
  assert.equal(r.failed, 0);
  assert.equal(r.dataset.sha256, d.sha256, 'it ran the file it pulled');
  const check = await checkCounts(api, before, r, weather.paths, COUNT_GUARD_MS);
  assert.deepEqual(check.differences, { kafka: [], rabbitmq: [] });
  assert.ok(check.exact);
  for (const f of ['locust_stats.csv', 'locust.html', 'results.json']) assert.ok(readFileSync(join(run.dir, f)).length > 0, `${f} saved`);
});
