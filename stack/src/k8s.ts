/**
 * Validation of deploy/k8s without a cluster or a cloud account:
 *
 *  1. every variant (the base, and each overlay with the combinations of
 *     components tested() declares) builds with `kubectl kustomize`;
 *  2. kubeconform, strict and offline, against JSON schemas generated here from
 *     the Kubernetes OpenAPI document that the k8s.io/kubernetes Go module
 *     carries and from the operators' CRDs (CRDS_DIR);
 *  3. a real kube-apiserver and etcd on loopback, built from the Go module
 *     proxy (deploy/k8s/tools), with the CRDs and namespaces created, takes a
 *     server-side dry run of every variant: what schemas miss (enums, CEL
 *     rules, defaulting, admission) fails there.
 *
 * Tools and schemas are cached in .tools/k8s, keyed by what they are built from.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { ensureBinaries, pinnedVersion } from './binaries.js';
import { goBinary, goInstalled } from './gotools.js';
import { ROOT } from './layout.js';
import { VALIDATION_PORTS } from './ports.js';
import { httpReady } from './probes.js';
import { NODE } from './cluster/plan.js';

export const K8S_DIR = join(ROOT, 'deploy', 'k8s');
const TOOLS_MODULE = join(K8S_DIR, 'tools');
const CACHE = join(ROOT, '.tools', 'k8s');
const WORK = join(ROOT, '.data', 'k8s-validate');
export const KUBECONFORM_MODULE = 'github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0';
/**
 * The operators' CRDs: K8S_CRDS_DIR, or the folder the project's own machines keep beside the project (a
 * clone elsewhere has none). Without them the kinds of the operators are left out of kubeconform and the
 * dry runs, and the run says so.
 */
export const CRDS_DIR = process.env.K8S_CRDS_DIR ?? join(ROOT, '..', 'shared', 'crds');
/** Loopback ports of the validation's etcd and API server (the port plan's). */
const { etcd: ETCD_PORT, etcdPeer: ETCD_PEER_PORT, apiserver: APISERVER_PORT } = VALIDATION_PORTS;

type Log = (m: string) => void;

export class K8sError extends Error {}

/** The Kubernetes release the tools module pins (its k8s.io/kubernetes requirement). */
export function kubernetesVersion(): string {
  const v = pinnedVersion('kubernetes');
  if (!v) throw new K8sError('deploy/k8s/tools/go.mod requires no k8s.io/kubernetes version');
  return v;
}

export interface K8sTools {
  apiserver: string;
  etcd: string;
  kubeconform: string;
  kubectl: string;
  /** Folder of the generated JSON schemas, laid out as kubeconform's template below expects. */
  schemas: string;
  /** Whether the operators' CRDs were found (their kinds are validated only then). */
  crds: boolean;
}

/** Builds (or finds cached) every tool and the schemas: the API server, etcd and kubectl of the pinned release. */
export function ensureK8sTools(log: Log): K8sTools {
  const { 'kube-apiserver': apiserver, kubectl } = ensureBinaries('kubernetes', ['kube-apiserver', 'kubectl'], log);
  const { etcd } = ensureBinaries('etcd', ['etcd'], log);
  const kubeconform = goInstalled('kubeconform', KUBECONFORM_MODULE, log);
  const crds = existsSync(CRDS_DIR);
  const schemas = ensureSchemas(kubernetesVersion(), crds, log);
  return { apiserver: apiserver!, etcd: etcd!, kubeconform, kubectl: kubectl!, schemas, crds };
}

// ---------------------------------------------------------------------------
// JSON schemas for kubeconform

type Schema = Record<string, unknown>;

/** The Kubernetes OpenAPI (v2) document in the module cache, downloaded through the Go module proxy. */
function swaggerPath(): string {
  const out = execFileSync(goBinary(), ['mod', 'download', '-json', `k8s.io/kubernetes@${kubernetesVersion()}`], {
    cwd: TOOLS_MODULE,
    encoding: 'utf8',
  });
  const dir = (JSON.parse(out) as { Dir: string }).Dir;
  return join(dir, 'api', 'openapi-spec', 'swagger.json');
}

/** Every CRD file in CRDS_DIR and its sub-folders, in name order. */
function crdFiles(dir = CRDS_DIR): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const path = join(dir, f);
    if (statSync(path).isDirectory()) out.push(...crdFiles(path));
    else if (/\.ya?ml$/.test(f)) out.push(path);
  }
  return out;
}

const INT_OR_STRING = { oneOf: [{ type: 'string' }, { type: 'integer' }] };
const QUANTITY = { oneOf: [{ type: 'string' }, { type: 'number' }] };

/**
 * A schema for kubeconform, in one pass: the OpenAPI document's `$ref`s inlined (a reference back to a
 * definition being inlined is left open; the CRDs' schemas have none), int-or-string made either, and strict:
 * an object schema that lists its properties allows no others (unless it says it keeps unknown fields).
 */
function convert(defs: Record<string, Schema>, s: Schema, path: string[] = []): Schema {
  const ref = s['$ref'];
  if (typeof ref === 'string') {
    const name = ref.replace('#/definitions/', '');
    if (name === 'io.k8s.apimachinery.pkg.api.resource.Quantity') return { ...QUANTITY };
    if (path.includes(name)) return {};
    const def = defs[name];
    if (!def) throw new K8sError(`the OpenAPI document has no definition ${name}`);
    return convert(defs, def, [...path, name]);
  }
  if (s['format'] === 'int-or-string' || s['x-kubernetes-int-or-string'] === true)
    return { ...INT_OR_STRING, description: s['description'] };
  const sub = (x: Schema) => convert(defs, x, path);
  const out: Schema = { ...s };
  if (out['properties']) {
    out['properties'] = Object.fromEntries(Object.entries(out['properties'] as Record<string, Schema>).map(([k, v]) => [k, sub(v)]));
    if (out['additionalProperties'] === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true)
      out['additionalProperties'] = false;
  }
  for (const k of ['items', 'additionalProperties']) if (out[k] && typeof out[k] === 'object') out[k] = sub(out[k] as Schema);
  for (const k of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(out[k])) out[k] = (out[k] as Schema[]).map(sub);
  return out;
}

function writeSchema(dir: string, group: string, version: string, kind: string, schema: Schema): void {
  // kubeconform's template {{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json: the core group is named by its version
  const folder = join(dir, group === '' ? version : group);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `${kind.toLowerCase()}_${version}.json`), JSON.stringify(schema));
}

/** The schema folder for kubeconform, generated once per Kubernetes version and set of CRDs. */
function ensureSchemas(version: string, withCrds: boolean, log: Log): string {
  const crds = withCrds ? crdFiles() : [];
  const key = createHash('sha256')
    .update(version)
    .update(readFileSync(new URL(import.meta.url)))
    .update(crds.map((f) => readFileSync(f, 'utf8')).join('\n'))
    .digest('hex')
    .slice(0, 12);
  const dir = join(CACHE, `schemas-${key}`);
  if (existsSync(join(dir, '.done'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const t0 = Date.now();
  const swagger = JSON.parse(readFileSync(swaggerPath(), 'utf8')) as { definitions: Record<string, Schema> };
  let n = 0;
  for (const [name, def] of Object.entries(swagger.definitions)) {
    const gvks = def['x-kubernetes-group-version-kind'] as { group: string; version: string; kind: string }[] | undefined;
    if (!gvks) continue;
    const schema = convert(swagger.definitions, def, [name]);
    for (const g of gvks) {
      writeSchema(dir, g.group, g.version, g.kind, schema);
      n++;
    }
  }
  let c = 0;
  for (const f of crds) {
    for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
      const crd = doc.toJS() as {
        kind?: string;
        spec?: {
          group: string;
          names: { kind: string };
          versions: { name: string; served: boolean; schema?: { openAPIV3Schema: Schema } }[];
        };
      } | null;
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const v of crd.spec.versions) {
        if (!v.served || !v.schema) continue;
        writeSchema(dir, crd.spec.group, v.name, crd.spec.names.kind, convert({}, v.schema.openAPIV3Schema));
        c++;
      }
    }
  }
  writeFileSync(join(dir, '.done'), '');
  log(`generated ${n} schemas from Kubernetes ${version}'s OpenAPI and ${c} from the CRDs in ${Math.round((Date.now() - t0) / 1000)} s`);
  return dir;
}

// ---------------------------------------------------------------------------
// Variants

export interface Variant {
  name: string;
  /** The folder kubectl kustomize builds. */
  dir: string;
}

/** The API groups the CRDs in CRDS_DIR define (their kinds are left out when the CRDs are absent). */
const CRD_GROUPS = ['kafka.strimzi.io', 'rabbitmq.com', 'kubevirt.io'];

/** Components an overlay includes and a variant never adds on its own (the domain it turns the system into). */
export const OVERLAY_ONLY: readonly string[] = ['blackfriday'];

/** The components a variant may add, by folder name, in the order they apply (kafka-only last: it removes what others may patch). */
export function componentNames(): string[] {
  const names = readdirSync(join(K8S_DIR, 'components'))
    .filter((d) => existsSync(join(K8S_DIR, 'components', d, 'kustomization.yaml')) && !OVERLAY_ONLY.includes(d))
    .sort();
  return [...names.filter((c) => c !== 'kafka-only'), ...names.filter((c) => c === 'kafka-only')];
}

export function overlayNames(): string[] {
  return readdirSync(join(K8S_DIR, 'overlays'))
    .filter((d) => existsSync(join(K8S_DIR, 'overlays', d, 'kustomization.yaml')))
    .sort();
}

/**
 * Black Friday's: not what its overlays include (blackfriday, kafka-only, valkey-kubevirt), nor locust (its
 * weather tweets are not the sales the services take), nor valkey-hpa (it scales the StatefulSet the VMs replace).
 */
const SALES = ['consumers-2', 'dispatcher-3', 'writers-2'];

/**
 * The combinations validated: each overlay with `every` subset of its components, or else alone, with each
 * alone and with all together. GKE's, the reference, takes every component, so how components combine is
 * covered there; what another overlay changes meets each of its components in the second shape. EKS leaves
 * out valkey-kubevirt (its VMs reach their nodes only through the placement eks-blackfriday applies after
 * them); the local node takes what `npm run cluster` takes there.
 */
const tested = (all = componentNames()): Readonly<Record<string, { with: readonly string[]; every?: true }>> => ({
  gke: { with: all, every: true },
  blackfriday: { with: SALES, every: true },
  eks: { with: all.filter((c) => c !== 'valkey-kubevirt') },
  'eks-blackfriday': { with: SALES },
  local: { with: ['locust'] },
  'local-blackfriday': { with: [] },
});

/** valkey-hpa scales the StatefulSet valkey-kubevirt replaces: no variant takes both. */
const compatible = (chosen: string[]) => !(chosen.includes('valkey-hpa') && chosen.includes('valkey-kubevirt'));

/** The subsets of comps a variant is built with (see tested), the empty one first. */
function subsetsOf(comps: readonly string[], every = false): string[][] {
  if (every) return Array.from({ length: 1 << comps.length }, (_, mask) => comps.filter((_, i) => mask & (1 << i)));
  const some = [[], ...comps.map((c) => [c])];
  return comps.length > 1 ? [...some, [...comps]] : some;
}

/** An overlay with components, as a kustomization in `root`: the same shape deploy/gke/up.sh and deploy/aws/up.sh write. */
function writeVariant(root: string, overlay: string, chosen: string[]): Variant {
  const dir = join(root, `${overlay}${chosen.map((c) => `+${c}`).join('')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${relative(dir, join(K8S_DIR, 'overlays', overlay))}`,
      ...(chosen.length ? ['components:', ...chosen.map((c) => `  - ${relative(dir, join(K8S_DIR, 'components', c))}`)] : []),
      '',
    ].join('\n'),
  );
  return { name: [`overlays/${overlay}`, ...chosen].join('+'), dir };
}

/** The base, and each overlay with the combinations tested() declares, written under .data/k8s-validate. */
export function variants(): Variant[] {
  const root = join(WORK, 'variants');
  rmSync(root, { recursive: true, force: true });
  return [
    { name: 'base', dir: join(K8S_DIR, 'base') },
    ...overlayNames().flatMap((overlay) => {
      const t = tested()[overlay];
      if (!t) throw new K8sError(`overlays/${overlay}: tested() declares no combinations for it`);
      return subsetsOf(t.with, t.every)
        .filter(compatible)
        .map((chosen) => writeVariant(root, overlay, chosen));
    }),
  ];
}

export function build(kubectl: string, dir: string): string {
  const r = spawnSync(kubectl, ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new K8sError(`kubectl kustomize ${relative(ROOT, dir)}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** The objects of a built variant, `T` the shape its reader takes them as (an empty document is none). */
export function objectsOf<T = { kind: string; metadata: { name: string } }>(yaml: string): T[] {
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as T | null)
    .filter((d): d is T => Boolean(d));
}

/** A built variant without the kinds of the operators' CRDs. */
export function withoutCrdKinds(yaml: string): { yaml: string; skipped: number } {
  const docs = parseAllDocuments(yaml);
  const kept = docs.filter(
    (d) => !CRD_GROUPS.includes(String((d.toJS() as { apiVersion?: string } | null)?.apiVersion ?? '').split('/')[0]!),
  );
  return { yaml: kept.map((d) => d.toString()).join('---\n'), skipped: docs.length - kept.length };
}

/** kubeconform on a built variant: strict, offline, every kind must have a schema. */
export function kubeconform(t: K8sTools, yaml: string): { ok: boolean; output: string } {
  const r = spawnSync(
    t.kubeconform,
    [
      '-strict',
      '-summary',
      '-output',
      'text',
      '-schema-location',
      `${t.schemas}/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`,
      '-',
    ],
    { input: yaml, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}

// ---------------------------------------------------------------------------
// A real API server on loopback

export interface ApiServer {
  kubeconfig: string;
  kubectl(args: string[], input?: string): { ok: boolean; output: string };
  stop(): Promise<void>;
}

async function waitFor(what: string, ok: () => Promise<boolean> | boolean, ms: number, procs: ChildProcess[]): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    for (const p of procs) if (p.exitCode !== null) throw new K8sError(`${what}: a process exited with ${p.exitCode}`);
    if (await ok()) return;
    await sleep(250);
  }
  throw new K8sError(`${what}: not ready within ${ms / 1000} s`);
}

function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

/** Whether something listens on a loopback port (bash's /dev/tcp: dash would report every port free). */
const taken = (port: number) => spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0;

/** How long a validation waits for another one (another checkout's, or another run's) to free the ports. */
const PORTS_WAIT_MS = 1_800_000;

/** Waits until the validation's ports are free: two validations on one machine run one after the other. */
async function portsFree(log: Log): Promise<void> {
  const ports = [ETCD_PORT, ETCD_PEER_PORT, APISERVER_PORT];
  const until = Date.now() + PORTS_WAIT_MS;
  for (let said = false; ports.some(taken); said = true) {
    if (Date.now() > until)
      throw new K8sError(
        `127.0.0.1:${ports.filter(taken).join(', ')} still taken after ${PORTS_WAIT_MS / 60_000} min: another program holds them`,
      );
    if (!said) log(`the validation's ports (${ports.join(', ')}) are taken, by another validation most likely: waiting for them`);
    await sleep(2000);
  }
}

/** A process whose stderr goes to `file` in `dir` when it exits. */
function spawnLogged(command: string, args: string[], dir: string, file: string): ChildProcess {
  const p = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const chunks: Buffer[] = [];
  p.stderr?.on('data', (b: Buffer) => chunks.push(b));
  p.on('exit', () => writeFileSync(join(dir, file), Buffer.concat(chunks)));
  return p;
}

/** The service-account key pair and a static token for system:masters, in `dir`; returns the token. */
function writeCredentials(dir: string): string {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const token = randomBytes(24).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${token},validator,validator,"system:masters"\n`, { mode: 0o600 });
  return token;
}

const etcdArgs = (dir: string) => [
  ...['--data-dir', join(dir, 'etcd')],
  ...['--listen-client-urls', `http://127.0.0.1:${ETCD_PORT}`, '--advertise-client-urls', `http://127.0.0.1:${ETCD_PORT}`],
  ...['--listen-peer-urls', `http://127.0.0.1:${ETCD_PEER_PORT}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${ETCD_PEER_PORT}`],
  ...['--initial-cluster', `default=http://127.0.0.1:${ETCD_PEER_PORT}`],
  ...['--unsafe-no-fsync', '--log-level', 'warn'],
];

const apiServerArgs = (dir: string) => [
  `--etcd-servers=http://127.0.0.1:${ETCD_PORT}`,
  '--bind-address=127.0.0.1',
  '--advertise-address=127.0.0.1',
  `--secure-port=${APISERVER_PORT}`,
  `--cert-dir=${join(dir, 'certs')}`,
  `--token-auth-file=${join(dir, 'tokens.csv')}`,
  '--authorization-mode=RBAC',
  // the local node's range (its overlay gives some Services fixed addresses in it)
  `--service-cluster-ip-range=${NODE.serviceCidr}`,
  `--service-account-issuer=https://kubernetes.default.svc`,
  `--service-account-key-file=${join(dir, 'sa.pub')}`,
  `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
  '--enable-priority-and-fairness=false',
  '--v=1',
];

/** A kubeconfig for the validation's API server, as system:masters by the token; returns its path. */
function writeKubeconfig(dir: string, token: string): string {
  const kubeconfig = join(dir, 'kubeconfig');
  const lines = [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{ name: validate, cluster: { server: "https://127.0.0.1:${APISERVER_PORT}", insecure-skip-tls-verify: true } }]`,
    `users: [{ name: validator, user: { token: "${token}" } }]`,
    'contexts: [{ name: validate, context: { cluster: validate, user: validator } }]',
    'current-context: validate',
    '',
  ];
  writeFileSync(kubeconfig, lines.join('\n'), { mode: 0o600 });
  return kubeconfig;
}

/**
 * etcd and kube-apiserver on loopback, with a static token for system:masters,
 * then the CRDs created and established. Logs go to .data/k8s-validate.
 */
export async function startApiServer(t: K8sTools, log: Log): Promise<ApiServer> {
  await portsFree(log);
  const dir = join(WORK, 'apiserver');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'certs'), { recursive: true });
  const token = writeCredentials(dir);
  const procs: ChildProcess[] = [spawnLogged(t.etcd, etcdArgs(dir), dir, 'etcd.log')];
  const stop = async () => {
    for (const p of [...procs].reverse()) await stopProc(p);
  };
  try {
    await waitFor('etcd', () => httpReady(`http://127.0.0.1:${ETCD_PORT}/health`), 60_000, procs);
    procs.push(spawnLogged(t.apiserver, apiServerArgs(dir), dir, 'kube-apiserver.log'));
    const kubeconfig = writeKubeconfig(dir, token);
    const kubectl = (args: string[], input?: string) => {
      const r = spawnSync(t.kubectl, ['--kubeconfig', kubeconfig, ...args], {
        input,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        timeout: 300_000,
      });
      return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
    };
    // Ready: /readyz answers ok (the built-in controllers' post-start hooks done, default namespaces made).
    await waitFor('kube-apiserver', () => kubectl(['get', '--raw', '/readyz']).ok, 180_000, procs);
    log(`kube-apiserver ${kubernetesVersion()} and etcd serve on 127.0.0.1:${APISERVER_PORT}`);
    return { kubeconfig, kubectl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Creates the operators' CRDs (for real) and waits until each is established. */
export function createCrds(api: ApiServer): number {
  const files = crdFiles();
  for (const f of files) {
    const r = api.kubectl(['apply', '--server-side', '-f', f]);
    if (!r.ok) throw new K8sError(`creating the CRDs of ${relative(ROOT, f)}: ${r.output}`);
  }
  const r = api.kubectl(['wait', '--for', 'condition=established', '--timeout', '120s', 'crd', '--all']);
  if (!r.ok) throw new K8sError(`CRDs not established: ${r.output}`);
  return files.length;
}

/** Creates the namespaces of a built variant (for real), so its namespaced objects can be dry-run. */
export function createNamespaces(api: ApiServer, yaml: string): void {
  const names = objectsOf(yaml)
    .filter((d) => d.kind === 'Namespace')
    .map((d) => d.metadata.name);
  for (const n of names) {
    const r = api.kubectl(['create', 'namespace', n]);
    if (!r.ok && !/AlreadyExists/.test(r.output)) throw new K8sError(`creating namespace ${n}: ${r.output}`);
  }
}

/** A server-side apply, dry run: every object is admitted, defaulted and validated by the API server, nothing stored. */
export function dryRun(api: ApiServer, yaml: string): { ok: boolean; output: string } {
  return api.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=validate', '--dry-run=server', '-f', '-'], yaml);
}

export interface VariantResult {
  name: string;
  objects: number;
  skipped: number;
  kubeconform: { ok: boolean; output: string };
  dryRun: { ok: boolean; output: string };
}

/** The whole validation: every variant built, kubeconform'd and dry-run on a real API server. */
export async function validateAll(
  log: Log,
): Promise<{ results: VariantResult[]; crds: boolean; seconds: { tools: number; checks: number } }> {
  const t0 = Date.now();
  const t = ensureK8sTools(log);
  const tools = (Date.now() - t0) / 1000;
  if (!t.crds)
    log(`${relative(ROOT, CRDS_DIR)} is absent: the kinds of the operators (${CRD_GROUPS.join(', ')}) are left out of every check`);
  const t1 = Date.now();
  const built = variants().map((v) => ({ v, yaml: build(t.kubectl, v.dir) }));
  const api = await startApiServer(t, log);
  const results: VariantResult[] = [];
  try {
    if (t.crds) log(`created the CRDs of ${createCrds(api)} files`);
    for (const { yaml } of built) createNamespaces(api, yaml);
    for (const { v, yaml: full } of built) {
      const { yaml, skipped } = t.crds ? { yaml: full, skipped: 0 } : withoutCrdKinds(full);
      const r: VariantResult = {
        name: v.name,
        objects: objectsOf(yaml).length,
        skipped,
        kubeconform: kubeconform(t, yaml),
        dryRun: dryRun(api, yaml),
      };
      log(
        `${r.kubeconform.ok && r.dryRun.ok ? 'ok  ' : 'FAIL'} ${v.name}: ${r.objects} objects${skipped ? ` (${skipped} of CRD kinds left out)` : ''}`,
      );
      results.push(r);
    }
  } finally {
    await api.stop();
  }
  return { results, crds: t.crds, seconds: { tools, checks: (Date.now() - t1) / 1000 } };
}
