import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@tweets/stack';
import {
  commandStubs,
  deployScripts,
  ingressProblems,
  nicOptions,
  operandPods,
  operatorConfig,
  scalingProblems,
  unreadableFiles,
  type Obj,
} from '@tweets/stack/cloud';
import { type ApiServer } from '@tweets/stack/k8s';
import {
  applysetParent,
  barePath,
  bash,
  commonLib,
  createPod,
  deployFixture,
  deployScript,
  distinctPods,
  downWithLeftovers,
  NO_CRDS,
  refusedPods,
  stepNotCalled,
} from './deploy.js';

/**
 * deploy/gke and deploy/k8s against what a first real run on GKE showed (docs/deploy-gke.md lists which
 * check covers which finding): the Zot install step against Zot's checksum format; every pod, ours and
 * the operators', through the API server's PodSecurity admission in its namespace; Secret files against
 * the user that reads them; Ingresses against NIC's rules; HPAs, replicas and PDBs; down.sh against an
 * API server holding finalized objects; up.sh's plan, its prerequisites and its prune.
 */

const WORK = join(ROOT, '.data', 'gke-test');
let api: ApiServer;
let built: { name: string; objs: Obj[] }[];

before(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  ({ api, built } = await deployFixture(() => true));
});

after(async () => {
  await api?.stop();
});

// ---------------------------------------------------------------------------

test('the Zot install step verifies the binary against a checksum file as Zot releases write it', () => {
  const rel = join(WORK, 'zot-release');
  mkdirSync(rel, { recursive: true });
  const bin = '#!/bin/sh\necho "zot v9.9.9"\n';
  writeFileSync(join(rel, 'zot-linux-amd64'), bin, { mode: 0o755 });
  writeFileSync(join(rel, 'zot-linux-arm64'), 'other\n');
  // as Zot's release workflow makes it: "<sha> <file>" lines, then sed 's! ! \*!g' (binary mode)
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const lines = `${sha('other\n')} zot-linux-arm64\n${sha(bin)} zot-linux-amd64\n`.replace(/ /g, ' *');
  writeFileSync(join(rel, 'checksums.sha256.txt'), lines);
  const install = (dest: string) =>
    bash(`. "${ROOT}/deploy/zot/startup.sh"; install_zot 9.9.9 "file://${rel}" "${dest}"`, { ZOT_STARTUP_LIB: '1' });
  const ok = install(join(WORK, 'zot-out', 'zot'));
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(readFileSync(join(WORK, 'zot-out', 'zot'), 'utf8'), /v9\.9\.9/, 'installed');
  writeFileSync(join(rel, 'zot-linux-amd64'), `${bin}# tampered\n`);
  const bad = install(join(WORK, 'zot-bad', 'zot'));
  assert.notEqual(bad.status, 0, 'a binary that does not match is refused');
  assert.equal(existsSync(join(WORK, 'zot-bad', 'zot')), false, 'and not installed');
  writeFileSync(join(rel, 'checksums.sha256.txt'), `${sha('other\n')} *zot-linux-arm64\n`);
  const none = install(join(WORK, 'zot-none', 'zot'));
  assert.notEqual(none.status, 0, 'a checksum file without the binary is refused');
  assert.match(none.stderr, /no line for zot-linux-amd64/);
});

test("every pod, ours and the operators', is admitted by its namespace's Pod Security level", { skip: NO_CRDS }, () => {
  const pods = distinctPods(built, operatorConfig(deployScripts('gke')));
  const kinds = new Set(pods.map((p) => p.metadata.name.replace(/-\d+$/, '')));
  for (const k of [
    'tweets-dual-0',
    'tweets-entity-operator',
    'rabbitmq-server-0',
    'virt-launcher-valkey-0',
    'job-rabbitmq-app-user',
    'statefulset-valkey',
    'job-locust',
  ])
    assert.ok(kinds.has(k), `the pods include ${k} (${[...kinds].join(', ')})`);
  const refused = refusedPods(api, pods);
  assert.deepEqual(refused, [], `PodSecurity admission refuses:\n${refused.join('\n')}`);
  // and the check can fail: the same Kafka pod without the restricted provider
  const baseline = operandPods(built.find((b) => b.name === 'base')!.objs, { strimziProvider: '' }).find(
    (p) => p.kind === 'Pod' && /dual/.test(p.metadata.name),
  )!;
  const r = createPod(api, baseline);
  assert.equal(r.ok, false, 'a Kafka pod of the baseline provider is refused in the restricted namespace kafka');
  assert.match(r.output, /violates PodSecurity "restricted/);
});

test('every Secret and ConfigMap file a container mounts is readable by the user it runs as', () => {
  const problems = new Set<string>();
  for (const b of built) for (const p of unreadableFiles(b.objs)) problems.add(p);
  assert.deepEqual([...problems], []);
  const job = built[0]!.objs.find((o) => o.kind === 'Job' && o.metadata.name === 'rabbitmq-app-user');
  if (job) {
    const without = structuredClone(job);
    delete without.spec.template.spec.securityContext.fsGroup;
    assert.match(
      unreadableFiles([without]).join('\n'),
      /\/cookie is 0:0 400, unreadable by uid 999/,
      'without fsGroup the cookie is unreadable',
    );
  }
});

test('every Ingress is one the pinned NIC takes: a host, one master per host with its minions', () => {
  const up = deployScripts('gke');
  const opts = nicOptions(up);
  for (const b of built) assert.deepEqual(ingressProblems(b.objs, opts), [], b.name);
  const hosts = new Set(built.flatMap((b) => b.objs.filter((o) => o.kind === 'Ingress').map((o) => o.spec.rules[0].host)));
  assert.deepEqual([...hosts], ['weather-tweets.example'], 'one host, the placeholder up.sh replaces');
  assert.match(up, /op: replace, path: \/spec\/rules\/0\/host, value: "%s"/, "up.sh sets every Ingress's host");
  const hostless = built[0]!.objs
    .filter((o) => o.kind === 'Ingress')
    .map((o) => ({
      ...o,
      metadata: { ...o.metadata, annotations: {} },
      spec: { ...o.spec, rules: o.spec.rules.map((r: object) => ({ ...r, host: undefined })) },
    }));
  assert.match(ingressProblems(hostless, opts).join('\n'), /host: Required value/, 'the check refuses what NIC refuses');
});

test('HPAs own their counts, and every PodDisruptionBudget selects pods and lets one go', () => {
  for (const b of built) assert.deepEqual(scalingProblems(b.objs), [], b.name);
  const f = built.find((b) => b.name === 'overlays/blackfriday+consumers-2+dispatcher-3+writers-2')!;
  const hpa = Object.fromEntries(
    f.objs.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((h) => [h.metadata.name, h.spec.minReplicas]),
  );
  assert.deepEqual(hpa, { 'ingest-api': 1, dispatcher: 3, 'kafka-consumer': 2 }, "the components raise the HPAs' minimum");
});

// ---------------------------------------------------------------------------
// The scripts, with gcloud replaced by a stand-in that records its calls and kubectl pointed at the API server

test('up.sh checks every prerequisite first, each named with where to get it', () => {
  const bin = barePath();
  const r = spawnSync(join(bin, 'bash'), [join(ROOT, 'deploy', 'gke', 'up.sh'), '--project', 'p'], {
    encoding: 'utf8',
    env: { PATH: bin, HOME: WORK },
  });
  assert.equal(r.status, 1, r.stderr);
  for (const t of ['gcloud', 'gke-gcloud-auth-plugin', 'kubectl', 'helm', 'htpasswd', 'podman or docker', 'go: oras'])
    assert.match(r.stderr, new RegExp(`missing: ${t}.{10,}`), `${t} is named, with a hint`);
  assert.equal(existsSync(join(ROOT, '.data', 'gke', 'p-weather-tweets')), false, 'nothing was made');
});

test('secret_value tells an absent Secret from a cluster it cannot ask', () => {
  api.kubectl(['-n', 'default', 'create', 'secret', 'generic', 'probe', '--from-literal=k=v1']);
  const get = (ctx: string, name: string) => commonLib(api, `secret_value default ${name} k`, ctx);
  assert.deepEqual([get('validate', 'probe').status, get('validate', 'probe').stdout], [0, 'v1']);
  assert.deepEqual([get('validate', 'absent').status, get('validate', 'absent').stdout], [0, '']);
  const down = get('nowhere', 'probe');
  assert.notEqual(down.status, 0, 'a cluster that cannot be asked is an error, not "absent"');
});

test('up.sh --dry-run: the same plan twice, and with a component removed the server shows the prune', { skip: NO_CRDS }, () => {
  const plan = ['--dry-run', '--project', 'demo', '--tag', 't1', '--context', 'validate'];
  const up = (...components: string[]) => deployScript('gke', 'up.sh', [...plan, ...components], { KUBECONFIG: api.kubeconfig });
  // what a first run applied: the system with writers-2, as up.sh's ApplySet
  applysetParent(api);
  const first = up('--components', 'writers-2');
  assert.equal(first.status, 0, first.stderr);
  const dir = join(ROOT, '.data', 'gke-plan', 'demo-weather-tweets', 'kustomize');
  const applied = commonLib(api, `apply_system "${dir}"`, 'validate', 300_000);
  assert.equal(applied.status, 0, `${applied.stdout}\n${applied.stderr}`);
  assert.match(api.kubectl(['-n', 'tweets', 'get', 'pdb', 'writers', '-o', 'name']).output, /writers/);

  const a = up();
  const b = up();
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout, 'the same plan twice');
  assert.match(
    a.stdout,
    /server: poddisruptionbudget.policy\/writers pruned/,
    `without writers-2 the plan prunes its PDB:\n${a.stdout.slice(-3000)}`,
  );
  assert.match(a.stdout, /--prune --applyset=applysets.deploy.weather-tweets.io\/weather-tweets/);
  assert.doesNotMatch(a.stdout, /ingress.networking.k8s.io\/tweets pruned/, 'what stays is not pruned');
});

// last: it deletes the namespaces (which, with no controller here, stay Terminating)
test('down.sh deletes everything, in order, though a KafkaTopic keeps its finalizer and a volume stays', { skip: NO_CRDS }, () => {
  const s = commandStubs({ gcloud: [] });
  downWithLeftovers(api, 'gke', {
    args: ['--project', 'p', '--context', 'validate'],
    stubDir: s.dir,
    pv: 'pvc-0001',
    csi: { driver: 'pd.csi.storage.gke.io', volumeHandle: 'projects/p/zones/us-central1-a/disks/pvc-0001' },
    timeout: 120_000,
  });
  const calls = s.calls('gcloud');
  const order = [
    'container clusters delete weather-tweets',
    'compute disks delete pvc-0001 --zone us-central1-a',
    'compute addresses delete weather-tweets-ingress',
    'compute instances delete zot-registry',
    'compute firewall-rules delete zot-registry-allow',
    'compute addresses delete zot-registry-ip',
  ];
  const missing = stepNotCalled(calls, order);
  assert.equal(missing, undefined, `gcloud ${missing}, after the previous one:\n${calls.join('\n')}`);
});
