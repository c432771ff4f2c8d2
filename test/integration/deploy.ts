import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { ROOT, tempDir } from '@tweets/stack';
import { missingInOrder, operandPods, podsOf, type Obj, type OperatorConfig } from '@tweets/stack/cloud';
import { build, CRDS_DIR, createCrds, ensureK8sTools, startApiServer, variants, type ApiServer, type K8sTools } from '@tweets/stack/k8s';

/**
 * What the cloud tests (gke, aws) share: their log, the manifests' objects, bash, an API server holding the
 * manifests' namespaces, the pods its admission judges, and the scripts of deploy/<cloud> run against it.
 */

export const log = (m: string) => console.log(`# ${m}`);
const hasCrds = existsSync(CRDS_DIR);
/** A test's `skip` where the operators' CRDs are absent. */
export const NO_CRDS = !hasCrds && `${CRDS_DIR} is absent: the operators' kinds cannot be created here`;

export const objects = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);

export const bash = (script: string, env: Record<string, string> = {}, timeout = 120_000) =>
  spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout });

/** deploy/<cloud>/<name> (up.sh, down.sh) with args; env added to the test's own. */
export const deployScript = (cloud: string, name: string, args: string[], env: Record<string, string> = {}, timeout = 300_000) =>
  spawnSync('bash', [join(ROOT, 'deploy', cloud, name), ...args], { encoding: 'utf8', timeout, env: { ...process.env, ...env } });

/** deploy/common/lib.sh's functions run by expr, against the API server as up.sh's context `validate` (or ctx). */
export const commonLib = (api: ApiServer, expr: string, ctx = 'validate', timeout?: number) =>
  bash(`. "${ROOT}/deploy/common/lib.sh"; ${expr}`, { KUBECONFIG: api.kubeconfig, KUBE_CONTEXT: ctx }, timeout);

/**
 * The variants of deploy/k8s that `keep` names, built, and an API server with the operators' CRDs (where
 * present) and every namespace the variants make, labels (Pod Security levels) included, each with its
 * default ServiceAccount.
 */
export async function deployFixture(
  keep: (variant: string) => boolean,
): Promise<{ tools: K8sTools; api: ApiServer; built: { name: string; objs: Obj[] }[] }> {
  const tools = ensureK8sTools(log);
  const built = variants()
    .filter((v) => keep(v.name))
    .map((v) => ({ name: v.name, objs: objects(build(tools.kubectl, v.dir)) }));
  const api = await startApiServer(tools, log);
  if (hasCrds) createCrds(api);
  const namespaces = new Map<string, Obj>();
  for (const b of built) for (const o of b.objs) if (o.kind === 'Namespace') namespaces.set(o.metadata.name, o);
  const r = api.kubectl(['apply', '--server-side', '-f', '-'], [...namespaces.values()].map((n) => stringify(n)).join('---\n'));
  assert.ok(r.ok, r.output);
  for (const n of namespaces.keys()) api.kubectl(['-n', n, 'create', 'serviceaccount', 'default']);
  return { tools, api, built };
}

/** A PATH folder with the shell's own tools (and `extra`) and none of a deployment's: what up.sh must find missing. */
export function barePath(extra: string[] = []): string {
  const bin = tempDir('bare-path-');
  for (const t of [
    'bash',
    'sed',
    'grep',
    'cat',
    'dirname',
    'tail',
    'head',
    'mkdir',
    'chmod',
    'rm',
    'touch',
    'date',
    'tr',
    'printf',
    'env',
    ...extra,
  ]) {
    const p = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    if (p.startsWith('/')) spawnSync('ln', ['-s', p, join(bin, t)]);
  }
  return bin;
}

// ---------------------------------------------------------------------------
// Pods through the API server's PodSecurity admission

/** A pod as the server's dry run creates it: in the default ServiceAccount, the one its namespace has here. */
const inDefaultAccount = (p: Obj): Obj => ({ ...p, spec: { ...p.spec, serviceAccountName: 'default' } });

/** The Pods of the variants, ours and the operators' (as cfg configures them), one of each distinct Pod, each named apart. */
export function distinctPods(variants: { objs: Obj[] }[], cfg: OperatorConfig): Obj[] {
  const seen = new Map<string, Obj>();
  for (const v of variants) for (const p of [...podsOf(v.objs), ...operandPods(v.objs, cfg)]) seen.set(JSON.stringify(p), p);
  return [...seen.values()].map((p, i) => inDefaultAccount({ ...p, metadata: { ...p.metadata, name: `${p.metadata.name}-${i}` } }));
}

/** The server's dry run of creating the pod. */
export const createPod = (api: ApiServer, p: Obj) =>
  api.kubectl(['create', '--dry-run=server', '-f', '-'], JSON.stringify(inDefaultAccount(p)));

/** Each pod the server's admission refuses, with why (none: every one admitted). */
export const refusedPods = (api: ApiServer, pods: Obj[]) =>
  pods.flatMap((p) => {
    const r = createPod(api, p);
    return r.ok ? [] : [`${p.metadata.namespace}/${p.metadata.name}: ${r.output}`];
  });

// ---------------------------------------------------------------------------
// What the scripts find in the cluster

/** objs applied to the API server, each as the server takes it. */
export function applyAll(api: ApiServer, objs: object[]): void {
  for (const o of objs) {
    const r = api.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify(o));
    assert.ok(r.ok, r.output);
  }
}

/** What a first run of up.sh left: the ApplySet CRD and its parent object, through lib.sh as up.sh makes it. */
export function applysetParent(api: ApiServer): void {
  const crd = api.kubectl(['apply', '--server-side', '-f', join(ROOT, 'deploy', 'common', 'applyset.yaml')]);
  assert.ok(crd.ok, crd.output);
  api.kubectl(['wait', '--for', 'condition=established', '--timeout', '60s', 'crd/applysets.deploy.weather-tweets.io']);
  const parent = commonLib(api, 'applyset_parent');
  assert.equal(parent.status, 0, parent.stderr);
}

/**
 * deploy/<cloud>/down.sh against the API server, the cloud's CLIs the stand-ins in stubDir, when the cluster
 * holds a KafkaTopic its operator's finalizer keeps (no operator here removes it) and a volume its claim left
 * (the disk still billing, its CSI driver's). It must finish, and remove the topic's finalizer itself.
 */
export function downWithLeftovers(
  api: ApiServer,
  cloud: string,
  o: { args: string[]; stubDir: string; pv: string; csi: Record<string, string>; env?: Record<string, string>; timeout: number },
): void {
  const topic = {
    apiVersion: 'kafka.strimzi.io/v1',
    kind: 'KafkaTopic',
    metadata: { name: 'stuck', namespace: 'kafka', labels: { 'strimzi.io/cluster': 'tweets' }, finalizers: ['strimzi.io/topic-operator'] },
    spec: { partitions: 1, replicas: 1 },
  };
  const pv = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: o.pv },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], csi: o.csi },
  };
  applyAll(api, [topic, pv]);
  const t0 = Date.now();
  const env = { ...o.env, PATH: `${o.stubDir}:${process.env.PATH}`, KUBECONFIG: api.kubeconfig, DOWN_WAIT_SECONDS: '3' };
  const r = deployScript(cloud, 'down.sh', o.args, env, o.timeout);
  log(`down.sh took ${Math.round((Date.now() - t0) / 1000)} s`);
  assert.equal(r.status, 0, `down.sh finished (status ${r.status}, signal ${r.signal})\n${r.stdout}\n${r.stderr}`);
  assert.match(
    api.kubectl(['-n', 'kafka', 'get', 'kafkatopic', 'stuck', '--ignore-not-found', '-o', 'name']).output,
    /^$/,
    'the KafkaTopic is gone: its finalizer was removed',
  );
  api.kubectl(['delete', 'pv', o.pv, '--wait=false']);
}

/** The first step of `steps` not found, in order, each at the start of a recorded call of its own (undefined: all were). */
export const stepNotCalled = (calls: string[], steps: string[]): string | undefined =>
  missingInOrder(
    calls.map((c) => `\n${c}`).join(''),
    steps.map((x) => `\n${x}`),
  )?.slice(1);
