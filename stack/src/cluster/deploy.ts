/**
 * The system on the running node: its volumes and Secrets (made as deploy/gke/up.sh makes them on GKE, or as
 * the operators would), the add-ons (CoreDNS, metrics-server), then deploy/k8s/overlays/local with the
 * images built for it, and a wait until every workload is ready.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { K8S_DIR } from '../k8s.js';
import { nginxConf, routes } from './ingress.js';
import { NODE, STATE, VOLUMES } from './plan.js';

export type Kubectl = (args: string[], input?: string) => { ok: boolean; out: string };

/** kubectl (the one built with the node) as the node's administrator. */
export function kubectlFor(bin: string): Kubectl {
  return (args, input) => {
    const r = spawnSync(bin, ['--kubeconfig', join(STATE, 'admin.kubeconfig'), ...args], {
      input,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      timeout: 600_000,
    });
    return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
  };
}

const must = (r: { ok: boolean; out: string }, what: string) => {
  if (!r.ok) throw new Error(`${what}: ${r.out}`);
  return r.out;
};

/** The names the manifests use for each image built here (their own, or a public one the base pins). */
const IMAGE_NAMES: Record<string, string[]> = {
  pause: [],
  coredns: ['coredns'],
  'metrics-server': ['metrics-server'],
  registry: ['registry-image'],
  oras: ['ghcr.io/oras-project/oras'],
  valkey: ['docker.io/valkey/valkey'],
  rabbitmq: ['docker.io/library/rabbitmq', 'rabbitmq-image'],
  kafka: ['kafka-image'],
  nginx: ['nginx-image'],
  locust: ['docker.io/locustio/locust'],
};

/** kustomize's `images:` for what was built: every name the manifests use, to the built image. */
export function imageOverrides(built: Record<string, string>): { name: string; newName: string; newTag: string }[] {
  return Object.entries(built).flatMap(([name, ref]) => {
    const at = ref.lastIndexOf(':');
    return (IMAGE_NAMES[name] ?? [`tweets/${name}`]).map((n) => ({ name: n, newName: ref.slice(0, at), newTag: ref.slice(at + 1) }));
  });
}

/** A kustomization in the node's folder: `resources` and `components` with the images built here. */
export function kustomization(dir: string, resources: string[], components: string[], built: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  const rel = (p: string) => relative(dir, p);
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: resources.map(rel),
      ...(components.length ? { components: components.map((c) => rel(join(K8S_DIR, 'components', c))) } : {}),
      images: imageOverrides(built),
    }),
  );
  return dir;
}

/** The node's passwords, made once and kept in its folder (mode 0600), as the operators and up.sh make them. */
export function clusterSecrets(): Record<string, string> {
  const file = join(STATE, 'secrets.json');
  const names = ['valkeyAdmin', 'valkeyWriter', 'valkeyReader', 'rabbitmqApp', 'rabbitmqAdmin', 'erlangCookie', 'registry'];
  const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {};
  const all = Object.fromEntries(names.map((n) => [n, kept[n] ?? randomBytes(18).toString('base64url')]));
  mkdirSync(STATE, { recursive: true });
  writeFileSync(file, JSON.stringify(all, null, 2), { mode: 0o600 });
  return all;
}

/** `kubectl create secret|configmap ... --dry-run=client -o yaml`, applied: created or updated. */
function applyGeneric(
  k: Kubectl,
  kind: 'secret generic' | 'secret docker-registry' | 'configmap',
  ns: string,
  name: string,
  args: string[],
): void {
  const yaml = must(k(['create', ...kind.split(' '), name, '-n', ns, ...args, '--dry-run=client', '-o', 'yaml']), `${kind} ${ns}/${name}`);
  must(k(['apply', '--server-side', '--force-conflicts', '-f', '-'], yaml), `apply ${kind} ${ns}/${name}`);
}

/** An htpasswd line (bcrypt) for the registry's login, the password given on stdin. */
function htpasswd(user: string, password: string): string {
  const r = spawnSync('htpasswd', ['-inB', user], { input: password, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`htpasswd: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * The Secrets the system's pods name, by namespace/name, with their keys: as up.sh makes them on GKE, and
 * as the operators the node lacks would (the administrator's login and the cookie of RabbitMQ). A test
 * checks that every Secret a pod of overlays/local names is one of these.
 */
export const CLUSTER_SECRETS = {
  'valkey/valkey-users': ['admin-password', 'writer-password', 'reader-password'],
  'tweets/valkey-users': ['writer-password', 'reader-password'],
  'rabbitmq/rabbitmq-app-user': ['password'],
  'tweets/rabbitmq-app': ['url'],
  'rabbitmq/rabbitmq-default-user': ['username', 'password'],
  'rabbitmq/rabbitmq-erlang-cookie': ['.erlang.cookie'],
  'registry/registry-auth': ['htpasswd'],
} as const satisfies Record<string, readonly string[]>;

/** Each Secret's values, from the node's passwords. */
function clusterSecretValues(): Record<keyof typeof CLUSTER_SECRETS, Record<string, string>> {
  const s = clusterSecrets();
  return {
    'valkey/valkey-users': { 'admin-password': s.valkeyAdmin!, 'writer-password': s.valkeyWriter!, 'reader-password': s.valkeyReader! },
    'tweets/valkey-users': { 'writer-password': s.valkeyWriter!, 'reader-password': s.valkeyReader! },
    'rabbitmq/rabbitmq-app-user': { password: s.rabbitmqApp! },
    'tweets/rabbitmq-app': { url: `amqp://tweets:${s.rabbitmqApp}@rabbitmq.rabbitmq.svc.cluster.local:5672/` },
    'rabbitmq/rabbitmq-default-user': { username: 'admin', password: s.rabbitmqAdmin! },
    'rabbitmq/rabbitmq-erlang-cookie': { '.erlang.cookie': s.erlangCookie! },
    'registry/registry-auth': { htpasswd: htpasswd('tweets', s.registry!) },
  };
}

/** The pull secrets (the registry in the cluster's login), where their namespaces are. */
export const PULL_SECRETS = ['tweets/registry-pull', 'loadtest/registry-pull'];

/** Applies the Secrets (and the pull secrets of the namespaces there are: the load test's comes with the locust component). */
export function applySecrets(k: Kubectl): void {
  for (const [ref, values] of Object.entries(clusterSecretValues())) {
    const [ns, name] = ref.split('/') as [string, string];
    if (Object.keys(values).join() !== CLUSTER_SECRETS[ref as keyof typeof CLUSTER_SECRETS].join())
      throw new Error(`${ref}: its keys are not CLUSTER_SECRETS'`);
    applyGeneric(
      k,
      'secret generic',
      ns,
      name,
      Object.entries(values).map(([key, v]) => `--from-literal=${key}=${v}`),
    );
  }
  for (const ref of PULL_SECRETS) {
    const [ns, name] = ref.split('/') as [string, string];
    if (!k(['get', 'namespace', ns]).ok) continue;
    applyGeneric(k, 'secret docker-registry', ns, name, [
      `--docker-server=${REGISTRY}`,
      '--docker-username=tweets',
      `--docker-password=${clusterSecrets().registry}`,
    ]);
  }
}

/** The registry in the cluster (overlays/local/registry.yaml), by its Service's fixed address. */
export const REGISTRY = `${NODE.registryIp}:5000`;

/** Local volumes for the stores' claims: folders of the node's state, each claimable once. */
export function applyVolumes(k: Kubectl, count = 12): void {
  const pvs = Array.from({ length: count }, (_, i) => {
    const path = join(VOLUMES, `pv-${i}`);
    mkdirSync(path, { recursive: true });
    return {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `local-${i}` },
      spec: {
        capacity: { storage: '20Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'local',
        local: { path },
        nodeAffinity: {
          required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [NODE.name] }] }] },
        },
      },
    };
  });
  must(k(['apply', '--server-side', '-f', '-'], pvs.map((p) => stringify(p)).join('---\n')), 'the local volumes');
}

/** An object of a build. */
export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: any;
}

/** The objects a kustomization builds. */
export function built(k: Kubectl, dir: string): Obj[] {
  return parseAllDocuments(must(k(['kustomize', dir]), `kustomize ${dir}`))
    .map((d) => d.toJS())
    .filter(Boolean);
}

/** overlays/local's nginx.conf, from its Ingress resources (npm run cluster -- ingress writes it). */
export function ingressConfig(k: Kubectl): string {
  return nginxConf(routes(built(k, join(K8S_DIR, 'overlays', 'local')) as never));
}

export const INGRESS_CONF = join(K8S_DIR, 'overlays', 'local', 'ingress', 'nginx.conf');

/** Waits until every Deployment and StatefulSet of the namespaces is rolled out and every Job done. */
export function waitReady(k: Kubectl, namespaces: string[], timeoutSec = 900): void {
  for (const ns of namespaces) {
    for (const kind of ['deployment', 'statefulset']) {
      for (const name of k(['-n', ns, 'get', kind, '-o', 'name']).out.split('\n').filter(Boolean)) {
        const status = () => k(['-n', ns, 'rollout', 'status', name, `--timeout=${timeoutSec}s`]);
        let r = status();
        // one that gave up while what it needed was missing (an earlier, failed `up`) starts over, once
        if (!r.ok && /exceeded its progress deadline/.test(r.out)) {
          k(['-n', ns, 'rollout', 'restart', name]);
          r = status();
        }
        must(r, `${ns} ${name} rolled out`);
      }
    }
    for (const job of k(['-n', ns, 'get', 'job', '-o', 'name']).out.split('\n').filter(Boolean)) {
      must(k(['-n', ns, 'wait', '--for=condition=complete', job, `--timeout=${timeoutSec}s`]), `${ns} ${job} complete`);
    }
  }
}

export const APP_NAMESPACES = ['kafka', 'rabbitmq', 'valkey', 'registry', 'tweets', 'nginx-ingress'];
