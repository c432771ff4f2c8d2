/**
 * `npm run locust -- --cluster`: the seed's load test as GKE runs it, on the local node: the input file
 * pushed as an OCI artifact to the registry in the cluster, then components/locust's Job (its init
 * containers pull the file with oras, Locust sends it with 10 users through the ingress), and the counts
 * in GET /stats, through the entry URL, compared with the file.
 */
import { join } from 'node:path';
import { stringify } from 'yaml';
import { weather, type WeatherDomain } from '@tweets/domain';
import { fetchStats } from '@tweets/loadgen';
import { imageTag } from '../images.js';
import { K8S_DIR } from '../k8s.js';
import { ROOT } from '../layout.js';
import { artifactTag, buildDataset, datasetDir, DEFAULT_COUNT, orasBinary, pushArtifact, REPOSITORY } from '../loadtest.js';
import { checkCounts, renderCheck, type LocustCheck, type LocustResults } from '../locust.js';
import { applySecrets, built, clusterSecrets, kustomization, REGISTRY, type Kubectl } from './deploy.js';
import { thirdPartyImages } from './images.js';
import { STATE } from './plan.js';

/** How Locust's Job reaches the system: the ingress Service, as the seed's users reach the ingress. */
const INGRESS_HOST = 'nginx-ingress-controller.nginx-ingress.svc.cluster.local';

/** The registry in the cluster serves plain HTTP: oras in the Job is told so (TLS and Zot on GKE). */
const PLAIN_HTTP = ['pull', 'manifest'].map((_, i) => ({
  op: 'add' as const,
  path: `/spec/template/spec/initContainers/${i}/args/-`,
  value: '--plain-http',
}));

function applyOrThrow(k: Kubectl, args: string[], input: string | undefined, what: string): string {
  const r = k(args, input);
  if (!r.ok) throw new Error(`${what}: ${r.out}`);
  return r.out;
}

/** The Job's inputs: the artifact in the registry, its reference and the ingress's host, the locustfile. */
function prepare(k: Kubectl, count: number, seed: number, say: (m: string) => void): string {
  const r = { address: REGISTRY, user: 'tweets', password: clusterSecrets().registry!, plainHttp: true };
  const d = buildDataset(datasetDir(count, seed), count, seed);
  const p = pushArtifact(orasBinary(say), r, datasetDir(count, seed), d, imageTag());
  say(`pushed the input file as ${p.reference} (${p.digest})`);
  const cm = (name: string, args: string[]) => {
    const yaml = applyOrThrow(
      k,
      ['create', 'configmap', name, '-n', 'loadtest', ...args, '--dry-run=client', '-o', 'yaml'],
      undefined,
      name,
    );
    applyOrThrow(k, ['apply', '--server-side', '--force-conflicts', '-f', '-'], yaml, name);
  };
  cm('loadtest', [`--from-literal=artifact=${REGISTRY}/${REPOSITORY}:${artifactTag(count, seed)}`, `--from-literal=host=${INGRESS_HOST}`]);
  cm('locustfile', [`--from-file=${join(ROOT, 'loadtest', 'locustfile.py')}`, `--from-file=${join(ROOT, 'loadtest', 'artifact.py')}`]);
  return p.reference;
}

/** Locust's results, from the one line its log ends with (loadtest/locustfile.py). */
export function resultsFromLog(log: string): LocustResults | undefined {
  const line = log
    .split('\n')
    .reverse()
    .find((l) => l.includes('results: {'));
  return line ? (JSON.parse(line.slice(line.indexOf('results: ') + 'results: '.length)) as LocustResults) : undefined;
}

/** Runs the Job on the running node and checks the counts; `entry`: the entry URL. */
export async function locustInCluster(
  k: Kubectl,
  entry: string,
  o: { count?: number; seed?: number; say: (m: string) => void },
): Promise<{ results?: LocustResults; check?: LocustCheck; report: string }> {
  const count = o.count ?? DEFAULT_COUNT;
  const seed = o.seed ?? 1;
  // the Job's own images (the rest of the system runs already)
  const images = thirdPartyImages(['locust', 'oras'], o.say);
  const dir = kustomization(join(STATE, 'locust'), [join(K8S_DIR, 'overlays', 'local')], ['locust'], images);
  // only what the component adds, the Job with its namespace: the rest is the running system
  const job = built(k, dir).filter((x) => x.metadata.namespace === 'loadtest' || x.metadata.name === 'loadtest');
  applyOrThrow(
    k,
    ['apply', '--server-side', '-f', '-'],
    job
      .filter((x) => x.kind === 'Namespace')
      .map((x) => stringify(x))
      .join('---\n'),
    'namespace loadtest',
  );
  applySecrets(k);
  const reference = prepare(k, count, seed, o.say);
  k(['-n', 'loadtest', 'delete', 'job', 'locust', '--ignore-not-found', '--wait=true']);
  const before = await fetchStats<WeatherDomain>(entry);
  const withPlainHttp = job.map((x) => (x.kind === 'Job' ? jsonPatch(x, PLAIN_HTTP) : x));
  applyOrThrow(
    k,
    ['apply', '--server-side', '-f', '-'],
    withPlainHttp
      .filter((x) => x.kind !== 'Namespace')
      .map((x) => stringify(x))
      .join('---\n'),
    'the Locust Job',
  );
  o.say(`Locust's Job: 10 users send ${reference} through the ingress`);
  const done = k(['-n', 'loadtest', 'wait', '--for=condition=complete', 'job/locust', '--timeout=1800s']);
  const log = k(['-n', 'loadtest', 'logs', 'job/locust', '-c', 'locust', '--tail=200']).out;
  const results = resultsFromLog(log);
  if (!done.ok || !results) return { report: `the Job did not complete: ${done.out}\n${log.slice(-2000)}` };
  const check = await checkCounts(entry, before, results, weather.paths, 180_000);
  return { results, check, report: renderCheck(results, check, weather.paths) };
}

/** An object with RFC 6902 `add` operations applied (array append with `-`). */
function jsonPatch<T extends object>(o: T, ops: { op: 'add'; path: string; value: unknown }[]): T {
  const copy = structuredClone(o) as Record<string, unknown>;
  for (const { path, value } of ops) {
    const keys = path.split('/').slice(1);
    const last = keys.pop()!;
    const parent = keys.reduce<any>((x, key) => x[key], copy);
    if (last === '-') (parent as unknown[]).push(value);
    else parent[last] = value;
  }
  return copy as T;
}
