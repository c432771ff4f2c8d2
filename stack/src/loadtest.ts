/**
 * The load test's input file and its OCI artifact (docs/loadtest.md).
 *
 * The file, tweets.jsonl, is generated from a seed: the same count and seed
 * give the same bytes on any machine. Its manifest, dataset.json, says what
 * it holds: count, seed, sha256, and the tweets per (municipality, weather).
 * `npm run artifact -- push` pushes both with oras to the OCI registry as one
 * artifact: dataset.json is its config blob, tweets.jsonl its one layer.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { domains, weather, type Domain, type DomainName, type WeatherDomain } from '@tweets/domain';
import { emptyBreakdown, type BreakdownOf } from '@tweets/store/stats';
import { randomItem, rng } from '@tweets/loadgen';
import { GOBIN, goInstalled, which } from './gotools.js';
import { ROOT } from './layout.js';
import type { Registry } from './registry.js';

export const ARTIFACT_TYPE = 'application/vnd.weather-tweets.loadtest.v1';
export const CONFIG_MEDIA_TYPE = 'application/vnd.weather-tweets.loadtest.config.v1+json';
export const LAYER_MEDIA_TYPE = 'application/vnd.weather-tweets.tweets.v1+jsonl';
export const ORAS_MODULE = 'oras.land/oras/cmd/oras@v1.3.6';
/** The artifact's repository in the registry. */
export const REPOSITORY = 'tweets/loadtest';
export const DEFAULT_COUNT = 10_000;

/** dataset.json: what the file holds. */
export interface Dataset {
  format: 'weather-tweets.loadtest.v1';
  file: 'tweets.jsonl';
  /** The domain of its items (absent in a file made before domains: weather) and where they are POSTed. */
  domain?: DomainName;
  resource?: string;
  count: number;
  seed: number;
  /** hex sha256 of tweets.jsonl */
  sha256: string;
  /** items per group and counted value: tweets per municipality and weather, sales per category */
  counts: BreakdownOf<WeatherDomain>;
}

/** The tag of the artifact of a count and seed: 10000-seed1 (weather), blackfriday-10000-seed1. */
export const artifactTag = (count: number, seed: number, domain: DomainName = 'weather') =>
  `${domain === 'weather' ? '' : `${domain}-`}${count}-seed${seed}`;

/** The folder a count and seed's file is generated into (gitignored). */
export const datasetDir = (count: number, seed: number, domain: DomainName = 'weather') =>
  join(ROOT, '.data', 'loadtest', artifactTag(count, seed, domain));

/**
 * Generates the file and its manifest into dir: line i is the tweet
 * `lt-<seed>-<i>` (ids padded, so lines sort in order), its fields drawn from
 * the seeded generator the load client uses. Deterministic: no clock, no host.
 */
export function buildDataset(dir: string, count: number, seed: number, domain: Domain = weather): Dataset {
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer; got ${count}`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer; got ${seed}`);
  const next = rng(seed);
  const counts = emptyBreakdown(domain) as Record<string, Record<string, number>>;
  const width = String(count - 1).length;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = randomItem(domain, next) as Record<string, string | number>;
    counts[t[domain.groupBy]!]![t[domain.countBy]!]!++;
    lines.push(JSON.stringify({ id: `lt-${seed}-${String(i).padStart(width, '0')}`, ...t }));
  }
  const body = `${lines.join('\n')}\n`;
  const extra = domain.name === 'weather' ? {} : { domain: domain.name, resource: domain.resource };
  const dataset = {
    format: 'weather-tweets.loadtest.v1',
    file: 'tweets.jsonl',
    ...extra,
    count,
    seed,
    sha256: createHash('sha256').update(body).digest('hex'),
    counts,
  } as Dataset;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tweets.jsonl'), body);
  writeFileSync(join(dir, 'dataset.json'), `${JSON.stringify(dataset, null, 2)}\n`);
  return dataset;
}

/** The oras binary: on the PATH, or installed with go install into .tools/go/bin the first time. */
export function orasBinary(log: (m: string) => void): string {
  const local = join(GOBIN, 'oras');
  if (existsSync(local)) return local;
  return which('oras') ?? goInstalled('oras', ORAS_MODULE, log);
}

/** A registry and its login: the local one, or any other (Zot on its VM). */
/** A registry's address and login; `plainHttp` where it serves HTTP though not on loopback (the local cluster's). */
export type RegistryLogin = Pick<Registry, 'address' | 'user' | 'password'> & { plainHttp?: boolean };

/** Plain HTTP for a registry on loopback (the local one); TLS for any other. */
const plainHttp = (address: string) => /^(127\.|localhost[:/]|\[::1\])/.test(address);

/** Runs oras with the registry's login on stdin. */
export function oras(bin: string, r: RegistryLogin, args: string[], opts: { cwd?: string } = {}): string {
  const flags = [...((r.plainHttp ?? plainHttp(r.address)) ? ['--plain-http'] : []), '--username', r.user, '--password-stdin'];
  const res = spawnSync(bin, [...args, ...flags], { input: r.password, encoding: 'utf8', cwd: opts.cwd, maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`oras ${args.slice(0, 2).join(' ')}: ${(res.stderr || res.stdout).trim()}`);
  return res.stdout;
}

export interface Pushed {
  reference: string;
  /** the artifact manifest's digest */
  digest: string;
  /** the layer's digest: sha256 of tweets.jsonl */
  layerDigest: string;
}

/** Pushes dir's file as the artifact <registry>/tweets/loadtest:<count>-seed<seed>, with its annotations. */
export function pushArtifact(bin: string, r: RegistryLogin, dir: string, d: Dataset, revision: string): Pushed {
  const reference = `${r.address}/${REPOSITORY}:${artifactTag(d.count, d.seed, d.domain)}`;
  const annotations = {
    'org.opencontainers.image.title': 'weather tweets load-test input',
    'org.opencontainers.image.description': `${d.count} ${domains[d.domain ?? 'weather'].item}s, one JSON object with its id per line, generated from seed ${d.seed}`,
    'org.opencontainers.image.created': new Date().toISOString(),
    'org.opencontainers.image.revision': revision,
    'io.weather-tweets.loadtest.count': String(d.count),
    'io.weather-tweets.loadtest.seed': String(d.seed),
  };
  const out = oras(
    bin,
    r,
    [
      'push',
      reference,
      '--artifact-type',
      ARTIFACT_TYPE,
      '--config',
      `dataset.json:${CONFIG_MEDIA_TYPE}`,
      ...Object.entries(annotations).flatMap(([k, v]) => ['--annotation', `${k}=${v}`]),
      '--format',
      'json',
      `tweets.jsonl:${LAYER_MEDIA_TYPE}`,
    ],
    { cwd: dir },
  );
  const res = JSON.parse(out) as { digest: string; reference: string };
  const manifest = JSON.parse(oras(bin, r, ['manifest', 'fetch', reference])) as { layers: { digest: string }[] };
  return { reference, digest: res.digest, layerDigest: manifest.layers[0]!.digest };
}

/** Whether the registry has the artifact's tag. */
export function artifactExists(bin: string, r: RegistryLogin, reference: string): boolean {
  try {
    oras(bin, r, ['manifest', 'fetch', '--descriptor', reference]);
    return true;
  } catch {
    return false;
  }
}
