/**
 * `npm run cluster [-- up|down|status]`: the system on a real single-node Kubernetes on this machine
 * (docs/deploy-local-cluster.md). `up` builds what is missing (the binaries from the Go module proxy into
 * .tools/bin, the images), starts the node's processes under the stack's supervisor, imports the images,
 * deploys the add-ons and deploy/k8s/overlays/local, waits until every workload is ready, and writes the
 * kubeconfig (.data/cluster/kubeconfig) and the entry URL (.data/cluster/endpoint). `down` deletes the
 * workloads, stops every process by PID, undoes every change to the machine and deletes the cluster (the
 * next `up` starts a new one, with the images already imported). `status` shows the node.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { launchSupervisor, stopStack, supervised } from '../lifecycle.js';
import { K8S_DIR } from '../k8s.js';
import { CLUSTER_PORTS } from '../ports.js';
import { provision, provisionCluster } from '../provision.js';
import { layout } from '../layout.js';
import { alive, readState } from '../state.js';
import {
  applySecrets,
  applyVolumes,
  APP_NAMESPACES,
  built,
  clusterSecrets,
  kubectlFor,
  kustomization,
  waitReady,
  type Kubectl,
  type Obj,
} from './deploy.js';
import { bridgeUp, setUpHost, snapshot, tearDownHost } from './host.js';
import { clusterImages, importImages } from './images.js';
import { cniDir, nodeBinaries, writeNodeConfigs } from './node.js';
import { ensurePki } from './pki.js';
import { forLocalNode } from './topics.js';
import { clusterLayout, NODE, STATE } from './plan.js';
import { ROOT } from '../layout.js';

export { nginxConf, routes } from './ingress.js';
export { forLocalNode, topicsOf } from './topics.js';
export { NODE } from './plan.js';
export { CLUSTER_SECRETS, INGRESS_CONF, PULL_SECRETS } from './deploy.js';
export { locustInCluster } from './locust.js';
export type { Kubectl } from './deploy.js';

const say = (m: string) => console.log(`[cluster] ${m}`);
export const ENDPOINT_FILE = join(STATE, 'endpoint');
export const KUBECONFIG = join(STATE, 'kubeconfig');
const BEFORE = join(STATE, 'host-before.json');

/** The entry URL: the ingress, as a user reaches the system. */
export const entryUrl = () => `http://127.0.0.1:${CLUSTER_PORTS.entry}`;

/** kubectl on the node, as its administrator. */
export const clusterKubectl = (): Kubectl => kubectlFor(nodeBinaries().kubectl!);

/** Whether the node's supervisor runs. */
export function isRunning(): boolean {
  const s = readState(clusterLayout());
  return !!s && alive(s.supervisorPid);
}

/**
 * A node this checkout did not start (another clone's): the bridge is up, and this checkout neither runs
 * a node nor left one half made. One node per machine: its bridge, its ports and its cgroups are fixed.
 */
function anotherCheckoutsNode(): boolean {
  return !isRunning() && !existsSync(BEFORE) && bridgeUp();
}

/** Builds what is missing, starts the node and deploys the system: an overlay for the local node (local, local-blackfriday) with components. */
export async function up(components: string[] = [], overlay = 'local'): Promise<string> {
  if (process.getuid?.() !== 0) throw new Error('npm run cluster runs as root: it makes a bridge, mounts and firewall rules for the node');
  if (anotherCheckoutsNode())
    throw new Error(
      `a Kubernetes node that this checkout did not start runs on this machine (the bridge ${NODE.bridge} is up): one node per machine; take it down with \`npm run cluster -- down\` in the checkout that started it`,
    );
  provision(layout('local'));
  provisionCluster();
  const bins = nodeBinaries(say);
  const cni = cniDir(say);
  const images = clusterImages(say);
  mkdirSync(STATE, { recursive: true });
  ensurePki(STATE);
  if (!isRunning()) {
    // the machine as it was before the first `up` (a failed one leaves its changes for `down` to undo)
    if (!existsSync(BEFORE)) writeFileSync(BEFORE, JSON.stringify(snapshot()));
    setUpHost();
    writeNodeConfigs(images.pause!);
    mkdirSync(join(STATE, 'cni'), { recursive: true });
    rmSync(join(STATE, 'cni', 'bin'), { recursive: true, force: true });
    spawnSync('cp', ['-r', cni, join(STATE, 'cni', 'bin')]);
    launchSupervisor(clusterLayout(), '{}');
  }
  await supervised(clusterLayout());
  importImages(bins.ctr!, Object.values(images), say);
  const k = clusterKubectl();
  deploy(k, overlay, components, images);
  copyFileSync(join(STATE, 'admin.kubeconfig'), KUBECONFIG);
  writeFileSync(ENDPOINT_FILE, `${entryUrl()}\n`);
  say(`the system answers on ${entryUrl()} (kubectl --kubeconfig ${KUBECONFIG} get pods -A)`);
  return entryUrl();
}

/** The namespaces of the stores, brokers and registry: ready before the application and its ingress start. */
const STORES = ['kafka', 'rabbitmq', 'valkey', 'registry'];

/**
 * Objects applied (server-side). A Job whose pod template changed (a new image) cannot be updated: it is
 * deleted and applied again, as deploy/gke/up.sh does.
 */
function applyObjects(k: Kubectl, objs: Obj[], what: string): void {
  const apply = () => k(['apply', '--server-side', '--force-conflicts', '-f', '-'], objs.map((o) => JSON.stringify(o)).join('\n'));
  let r = apply();
  const immutable = [...r.out.matchAll(/Job(?:\.batch)? "([^"]+)" is invalid: spec\.template: .*?field is immutable/g)].map((m) => m[1]!);
  if (!r.ok && immutable.length > 0) {
    for (const job of objs.filter((o) => o.kind === 'Job' && immutable.includes(o.metadata.name)))
      k(['-n', job.metadata.namespace!, 'delete', 'job', job.metadata.name, '--wait=true']);
    r = apply();
  }
  if (!r.ok) throw new Error(`${what}: ${r.out}`);
}

/** The add-ons, the volumes and Secrets, then the system as the local node takes it, each ready before the next. */
function deploy(k: Kubectl, overlay: string, components: string[], images: Record<string, string>): void {
  say('the add-ons: CoreDNS, metrics-server');
  applyObjects(k, built(k, kustomization(join(STATE, 'addons'), [join(ROOT, 'deploy', 'cluster', 'addons')], [], images)), 'the add-ons');
  waitReady(k, ['kube-system'], 300);
  const system = forLocalNode(built(k, kustomization(join(STATE, 'system'), [join(K8S_DIR, 'overlays', overlay)], components, images)));
  applyObjects(
    k,
    system.filter((o) => o.kind === 'Namespace'),
    'the namespaces',
  );
  applyVolumes(k);
  applySecrets(k);
  say(`deploying deploy/k8s/overlays/${overlay}${components.length ? ` with ${components.join(', ')}` : ''}`);
  // the stores and brokers (and their Jobs: the topics, RabbitMQ's application user) first, ready, then the
  // application: its services would otherwise start before their brokers and wait in back-off. With them
  // what is cluster-wide: the StorageClass their claims take, which is set on a claim as it is made.
  applyObjects(
    k,
    system.filter((o) => !o.metadata.namespace || STORES.includes(o.metadata.namespace)),
    'the stores and brokers',
  );
  waitReady(k, STORES);
  applyObjects(k, system, 'the system');
  waitReady(k, APP_NAMESPACES);
}

/** Deletes the workloads (their pods' network is released by the node), stops the node, undoes the machine's changes. */
export async function down(): Promise<{ left: Record<string, [string[], string[]]> }> {
  if (anotherCheckoutsNode()) {
    say(`the node on this machine is not this checkout's: left alone (\`npm run cluster -- down\` in the checkout that started it)`);
    return { left: {} };
  }
  if (isRunning()) {
    const k = clusterKubectl();
    const gone = k(['delete', 'namespace', ...APP_NAMESPACES, 'loadtest', '--ignore-not-found', '--wait=true', '--timeout=300s']);
    if (!gone.ok) say(`deleting the namespaces: ${gone.out}`);
    k(['-n', 'kube-system', 'delete', 'deployment', '--all', '--wait=true', '--timeout=120s']);
    killTasks(nodeBinaries().ctr!);
    await stopStack(clusterLayout());
  }
  const before = existsSync(BEFORE) ? (JSON.parse(readFileSync(BEFORE, 'utf8')) as Record<string, string[]>) : undefined;
  tearDownHost(say, before);
  // the cluster goes with it (its store, its pods' folders, its volumes); the certificates and the images
  // containerd holds stay for the next `up`
  for (const d of ['etcd', 'kubelet', 'kubelet-logs', 'volumes', 'ns', 'endpoint', 'kubeconfig'])
    rmSync(join(STATE, d), { recursive: true, force: true });
  const after = snapshot();
  const left = Object.fromEntries(
    Object.entries(after)
      .filter(([key, v]) => before && !isDeepStrictEqual(before[key], v))
      .map(([key, v]) => [key, [before![key] ?? [], v] as [string[], string[]]]),
  );
  for (const [key, [was, is]] of Object.entries(left))
    say(
      `NOT as before: ${key}: ${JSON.stringify(is.filter((x) => !was.includes(x)))} added, ${JSON.stringify(was.filter((x) => !is.includes(x)))} gone`,
    );
  rmSync(BEFORE, { force: true });
  return { left };
}

/** Any container left once its pod is gone: killed and deleted through containerd, before containerd stops. */
function killTasks(ctr: string): void {
  const c = (args: string[]) =>
    spawnSync(ctr, ['--address', join(STATE, 'containerd', 'containerd.sock'), '--namespace', 'k8s.io', ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });
  for (const task of c(['tasks', 'list', '--quiet']).stdout?.split('\n').filter(Boolean) ?? []) {
    c(['tasks', 'kill', '--signal', 'SIGKILL', task]);
    c(['tasks', 'delete', '--force', task]);
  }
}

/** The node's processes, nodes, pods and HPAs. */
export function status(): number {
  if (!isRunning()) {
    say('not running');
    return 1;
  }
  const s = readState(clusterLayout())!;
  for (const [name, c] of Object.entries(s.components))
    console.log(`  ${name.padEnd(24)} ${c.status.padEnd(10)} pid ${String(c.pid ?? '-').padEnd(8)} restarts ${c.restarts}`);
  const k = clusterKubectl();
  for (const args of [
    ['get', 'nodes', '-o', 'wide'],
    ['get', 'pods', '-A', '-o', 'wide'],
    ['get', 'hpa', '-A'],
  ])
    console.log(`\n$ kubectl ${args.join(' ')}\n${k(args).out}`);
  console.log(`\nentry: ${entryUrl()}   kubeconfig: ${KUBECONFIG}`);
  return 0;
}

/** What a benchmark needs of the running node: the entry URL, kubectl with the node's kubeconfig, Valkey's address and reader login. */
export function benchTarget(): { entry: string; kubectl: string[]; valkey: { host: string; port: number; password: string } } {
  const k = clusterKubectl();
  const host = k(['-n', 'valkey', 'get', 'service', 'valkey', '-o', 'jsonpath={.spec.clusterIP}']).out;
  return {
    entry: entryUrl(),
    kubectl: [nodeBinaries().kubectl!, '--kubeconfig', join(STATE, 'admin.kubeconfig')],
    valkey: { host, port: 6379, password: clusterSecrets().valkeyReader! },
  };
}
