import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEFAULT_PARTITIONS } from '@tweets/brokers';
import { blackfriday, weather } from '@tweets/domain';
import { ROOT } from '@tweets/stack';
import { pinnedVersion, type ModuleName } from '@tweets/stack/binaries';
import { imageServices } from '@tweets/stack/images';
import {
  build,
  componentNames,
  CRDS_DIR,
  createCrds,
  createNamespaces,
  dryRun,
  ensureK8sTools,
  K8S_DIR,
  kubeconform,
  objectsOf,
  overlayNames,
  startApiServer,
  variants,
  withoutCrdKinds,
  type ApiServer,
  type K8sTools,
} from '@tweets/stack/k8s';
import { SETTINGS, type ServiceName } from '@tweets/stack/profiles';
import { deployScripts, pinnedVersions, secretsMadeBy } from '@tweets/stack/cloud';
import { CLUSTER_SECRETS, PULL_SECRETS } from '@tweets/stack/cluster';

/**
 * deploy/k8s and deploy/gke, checked without a cluster: every variant (the
 * base, the GKE overlay with every combination of components) against strict
 * schemas and a real kube-apiserver's server-side dry run; the checks shown to
 * catch what they must; the manifests agreeing with the code (settings,
 * ports, images, secrets, topics); up.sh's plan; shellcheck on every script.
 */

const log = (m: string) => console.log(`# ${m}`);
let tools: K8sTools;
let api: ApiServer;
/**
 * Each variant's manifests: `full`, as kustomize builds them (what the agreement checks read: they need no
 * CRD), and `yaml`, what kubeconform and the API server check: without the operators' kinds where their CRDs
 * are absent.
 */
let built: { name: string; full: string; yaml: string }[];

before(async () => {
  tools = ensureK8sTools(log);
  if (!tools.crds)
    log(
      `no CRDs in ${CRDS_DIR} (set K8S_CRDS_DIR to a folder of them): the kinds of Strimzi, the RabbitMQ operator and KubeVirt are left out of kubeconform and the dry runs; every other check runs`,
    );
  built = variants().map((v) => {
    const full = build(tools.kubectl, v.dir);
    return { name: v.name, full, yaml: tools.crds ? full : withoutCrdKinds(full).yaml };
  });
  api = await startApiServer(tools, log);
  if (tools.crds) createCrds(api);
  for (const b of built) createNamespaces(api, b.yaml);
});

after(async () => {
  await api?.stop();
});

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; spec?: any; data?: Record<string, string> };
const objects = (yaml: string) => objectsOf<Obj>(yaml);
/** The base as the checks take it (`yaml`), or whole (`full`). */
const base = (which: 'yaml' | 'full' = 'yaml') => built.find((b) => b.name === 'base')![which];

test('every overlay and combination of components builds, passes strict kubeconform and the API server dry run', () => {
  // The combinations k8s.ts's tested() declares, counted from the n components there are. GKE: every subset
  // (2^n) but those with both valkey-hpa and valkey-kubevirt (2^(n-2)). Black Friday: every subset of the
  // components but the four it cannot take (kafka-only and valkey-kubevirt, which its overlays include;
  // locust, whose weather tweets are not sales; valkey-hpa, which scales the StatefulSet its VMs replace).
  // A new component counts in n: Black Friday's count fails until its list says whether it takes it.
  const n = componentNames().length;
  const names = built.map((b) => b.name);
  const count = (overlay: string) => names.filter((x) => x === `overlays/${overlay}` || x.startsWith(`overlays/${overlay}+`)).length;
  assert.deepEqual(overlayNames(), ['blackfriday', 'eks', 'eks-blackfriday', 'gke', 'local', 'local-blackfriday']);
  assert.deepEqual(
    names.filter((x) => x.startsWith('overlays/local')),
    ['overlays/local', 'overlays/local+locust', 'overlays/local-blackfriday'],
    'the local node: as npm run cluster runs it',
  );
  assert.equal(count('gke'), 2 ** n - 2 ** (n - 2), 'GKE: every allowed subset');
  assert.equal(count('blackfriday'), 2 ** (n - 4), 'Black Friday: every allowed subset');
  assert.equal(count('eks'), 1 + (n - 1) + 1, 'EKS: alone, each component but valkey-kubevirt alone, all of them');
  assert.equal(count('eks-blackfriday'), 1 + 3 + 1, 'EKS Black Friday: alone, each of the three alone, the three');
  assert.ok(names.includes('overlays/blackfriday+consumers-2+dispatcher-3+writers-2'));
  assert.ok(names.includes('overlays/eks-blackfriday+consumers-2+dispatcher-3+writers-2'));
  assert.ok(!names.some((x) => x.includes('valkey-hpa') && x.includes('valkey-kubevirt')));
  assert.ok(!names.some((x) => x.startsWith('overlays/eks+') && x.includes('valkey-kubevirt')));
  assert.equal(
    built.length,
    1 + count('gke') + count('blackfriday') + count('eks') + count('eks-blackfriday') + count('local') + count('local-blackfriday'),
    "the base and the overlays' variants, nothing else",
  );
  for (const b of built) {
    const kc = kubeconform(tools, b.yaml);
    assert.ok(kc.ok, `kubeconform ${b.name}:\n${kc.output}`);
    assert.match(kc.output, /Invalid: 0, Errors: 0, Skipped: 0/, `${b.name}: every object has a schema`);
    const dr = dryRun(api, b.yaml);
    assert.ok(dr.ok, `dry run ${b.name}:\n${dr.output}`);
  }
});

test('the checks catch what they are there for: schemas a misspelled field and a bad enum, the API server also its own rules', () => {
  const y = base();
  const cases: { name: string; from: string | RegExp; to: string; schema: boolean }[] = [
    { name: 'a misspelled field', from: 'revisionHistoryLimit: 3', to: 'revisionHistoryLimt: 3', schema: true },
    { name: 'an HPA below one replica', from: 'minReplicas: 1', to: 'minReplicas: 0', schema: false },
    {
      name: 'a PDB with both bounds',
      // eslint-disable-next-line no-regex-spaces -- YAML's indentation, as it is written
      from: /maxUnavailable: 1\n(  selector:\n    matchLabels:\n      app.kubernetes.io\/name: valkey)/,
      to: 'maxUnavailable: 1\n  minAvailable: 1\n$1',
      schema: false,
    },
    { name: 'a Service port out of range', from: 'port: 8081', to: 'port: 80810', schema: false },
  ];
  if (tools.crds) cases.push({ name: "a listener type Strimzi doesn't know", from: 'type: internal', to: 'type: internall', schema: true });
  for (const c of cases) {
    const bad = y.replace(c.from, c.to);
    assert.notEqual(bad, y, `${c.name}: the mutation applies`);
    assert.equal(dryRun(api, bad).ok, false, `${c.name}: the API server refuses it`);
    if (c.schema) assert.equal(kubeconform(tools, bad).ok, false, `${c.name}: kubeconform refuses it`);
  }
});

test('the manifests agree with the code: settings, ports, images, probes', () => {
  const objs = objects(base('full'));
  const ports = new Map(imageServices().map((s) => [s.name, s.port]));
  const deployments = objs.filter((o) => o.kind === 'Deployment' && o.metadata.namespace === 'tweets');
  assert.deepEqual(
    deployments.map((d) => d.metadata.name).sort(),
    Object.keys(SETTINGS).sort(),
    'one Deployment per service the stack runs',
  );
  for (const d of deployments) {
    const name = d.metadata.name as ServiceName;
    const [c] = d.spec.template.spec.containers;
    const image = /^tweets\/(.+)$/.exec(c.image)?.[1];
    assert.ok(image && ports.has(image), `${name}: image ${c.image} is one of services/*/Containerfile`);
    assert.equal(c.ports[0].containerPort, ports.get(image!), `${name}: the port its Containerfile exposes`);
    for (const e of c.env as { name: string }[])
      assert.ok(SETTINGS[name].includes(e.name), `${name}: ${e.name} is a setting the service reads`);
    const pod = d.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true, `${name}: non-root`);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault', `${name}: seccomp`);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true, `${name}: read-only root`);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL'], `${name}: no capabilities`);
    assert.ok(c.resources.requests.cpu && c.resources.limits.memory, `${name}: requests and limits`);
    assert.ok(c.readinessProbe && c.livenessProbe, `${name}: probes`);
  }
  const dispatcher = deployments.find((d) => d.metadata.name === 'dispatcher')!.spec.template.spec.containers[0].env as {
    name: string;
    value: string;
  }[];
  for (const w of ['writer-kafka', 'writer-rabbitmq']) {
    const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === w)!;
    assert.equal(svc.spec.clusterIP, 'None', `${w}: a headless Service, so the dispatcher sees every writer pod`);
    const addr = dispatcher.find((e) => e.name === `${w.split('-')[1]!.toUpperCase()}_WRITER_ADDR`)!.value;
    assert.equal(addr, `dns:///${w}.tweets.svc.cluster.local:50051`, `the dispatcher resolves ${w} by DNS`);
  }
  const hpa = objs.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'ingest-api')!;
  assert.deepEqual(
    [hpa.spec.minReplicas, hpa.spec.maxReplicas, hpa.spec.metrics[0].resource.target.averageUtilization],
    [1, 3, 30],
    "the seed's HPA",
  );
});

test('the manifests agree with the brokers: topics, partitions, queue permissions', () => {
  const objs = objects(base('full'));
  const topics = objs
    .filter((o) => o.kind === 'KafkaTopic')
    .map((t) => ({ name: t.spec.topicName ?? t.metadata.name, partitions: t.spec.partitions }));
  assert.deepEqual(topics.map((t) => t.name).sort(), [weather.broker.topic, `${weather.broker.topic}.dlq`].sort());
  assert.equal(
    topics.find((t) => t.name === weather.broker.topic)!.partitions,
    DEFAULT_PARTITIONS,
    'the partitions the writers and consumer expect',
  );
  const job = objs.find((o) => o.kind === 'Job' && o.metadata.name === 'rabbitmq-app-user')!;
  const script = job.spec.template.spec.containers[0].args[0] as string;
  const perms = /set_permissions -p \/ tweets '([^']+)' '([^']+)' '([^']+)'/.exec(script)!;
  for (const q of [weather.broker.queue, `${weather.broker.queue}.dlq`]) {
    assert.match(q, new RegExp(perms[1]!), `the app user may declare ${q}`);
    assert.match(q, new RegExp(perms[3]!), `the app user may read ${q}`);
  }
  assert.match('amq.default', new RegExp(perms[2]!), 'the app user may publish through the default exchange');
  assert.doesNotMatch('other-queue', new RegExp(perms[3]!), 'and read nothing else');
});

/** Each Secret and ConfigMap the deploy scripts of every cloud create. */
function madeByUpSh(): Map<string, Set<string>> {
  const made = secretsMadeBy(deployScripts('gke'));
  for (const [k, v] of secretsMadeBy(deployScripts('aws'))) made.set(k, new Set([...(made.get(k) ?? []), ...v]));
  // and by npm run cluster, for the local node
  for (const [ref, keys] of Object.entries(CLUSTER_SECRETS))
    made.set(`secret:${ref}`, new Set([...(made.get(`secret:${ref}`) ?? []), ...keys]));
  for (const ref of PULL_SECRETS) made.set(`secret:${ref}`, new Set(['.dockerconfigjson']));
  return made;
}

test('nothing is left to chance: every Secret, ConfigMap and pull secret a pod names is created by up.sh or the manifests', () => {
  const made = madeByUpSh();
  assert.ok(
    [...made.keys()].filter((k) => k.startsWith('secret:')).length >= 5,
    `up.sh creates the Secrets (${[...made.keys()].join(', ')})`,
  );
  for (const b of built) {
    const objs = objects(b.full);
    const configMaps = new Map(
      objs
        .filter((o) => o.kind === 'ConfigMap')
        .map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, new Set(Object.keys(o.data ?? {}))]),
    );
    const configMap = (ref: string) => configMaps.get(ref) ?? made.get(`configmap:${ref}`);
    for (const o of objs) {
      const pod = o.spec?.template?.spec;
      if (!pod) continue;
      const ns = o.metadata.namespace!;
      const where = `${b.name} ${o.kind}/${o.metadata.name}`;
      for (const ps of pod.imagePullSecrets ?? []) assert.ok(made.has(`secret:${ns}/${ps.name}`), `${where}: pull secret ${ns}/${ps.name}`);
      // a VirtualMachine's template has disks and volumes, no containers
      for (const c of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
        for (const e of c.env ?? []) {
          const s = e.valueFrom?.secretKeyRef;
          if (s)
            assert.ok(made.get(`secret:${ns}/${s.name}`)?.has(s.key), `${where}: secret ${ns}/${s.name} key ${s.key} is made by up.sh`);
          const cm = e.valueFrom?.configMapKeyRef;
          if (cm) assert.ok(configMap(`${ns}/${cm.name}`)?.has(cm.key), `${where}: ConfigMap ${ns}/${cm.name} key ${cm.key}`);
        }
      }
      for (const v of pod.volumes ?? []) {
        // the RabbitMQ operator's own Secret (the Erlang cookie) is the one up.sh does not make
        if (v.secret && v.secret.secretName !== 'rabbitmq-erlang-cookie')
          assert.ok(made.has(`secret:${ns}/${v.secret.secretName}`), `${where}: volume secret ${v.secret.secretName}`);
        if (v.configMap) assert.ok(configMap(`${ns}/${v.configMap.name}`), `${where}: volume ConfigMap ${v.configMap.name}`);
        const userData = v.cloudInitNoCloud?.secretRef?.name;
        if (userData)
          assert.ok(
            objs.some((x) => x.kind === 'Secret' && x.metadata.namespace === ns && x.metadata.name === userData),
            `${where}: cloud-init Secret ${userData}`,
          );
      }
    }
  }
  const locustfile = made.get('configmap:loadtest/locustfile');
  assert.deepEqual(
    [...(locustfile ?? [])].sort(),
    ['artifact.py', 'locustfile.py'],
    'the Locust Job gets the locustfile and the module it imports',
  );
  for (const f of [
    'deploy/zot/startup.sh',
    'deploy/common/grafana-values.yaml',
    'deploy/common/prometheus-values.yaml',
    'deploy/zot/config.json',
    'loadtest/locustfile.py',
    'loadtest/artifact.py',
  ])
    assert.ok(existsSync(join(ROOT, f)), `${f} exists`);
});

const versions = pinnedVersions;

test('up.sh --dry-run prints the whole plan in order, with the pinned versions, and creates nothing', () => {
  rmSync(join(ROOT, '.data', 'gke', 'demo-project-weather-tweets'), { recursive: true, force: true });
  const r = spawnSync(
    'bash',
    [
      join(ROOT, 'deploy', 'gke', 'up.sh'),
      '--dry-run',
      '--project',
      'demo-project',
      '--components',
      'writers-2,valkey-hpa',
      '--tag',
      'abc1234',
    ],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CONTAINER_ENGINE: 'podman' },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const plan = r.stdout;
  const v = versions();
  const steps = [
    'gcloud services enable container.googleapis.com compute.googleapis.com',
    'gcloud compute addresses create zot-registry-ip',
    'gcloud compute firewall-rules create zot-registry-allow',
    `gcloud compute instances create zot-registry`,
    `zot-version=${v.ZOT_VERSION}`,
    'gcloud container clusters create weather-tweets',
    '--enable-dataplane-v2',
    'gcloud container clusters get-credentials weather-tweets',
    'run images -- --tag abc1234 --platform linux/amd64',
    'podman push 203-0-113-10.sslip.io:5000/tweets/ingest-api:abc1234',
    'apply --server-side -f',
    `cert-manager --version v${v.CERT_MANAGER_VERSION}`,
    `cluster-operator/releases/download/v${v.RABBITMQ_OPERATOR_VERSION}/cluster-operator.yml`,
    `strimzi-kafka-operator --version ${v.STRIMZI_VERSION}`,
    `nginx-ingress --version ${v.NGINX_INGRESS_CHART_VERSION}`,
    'create secret generic valkey-users',
    'create secret docker-registry registry-pull',
    `grafana-community/grafana --version ${v.GRAFANA_CHART_VERSION}`,
    'components writers-2,valkey-hpa, images tweets/* -> 203-0-113-10.sslip.io:5000/tweets/*:abc1234',
    'apply --server-side --force-conflicts --field-manager=deploy-gke --prune --applyset=',
    '-n kafka wait kafka/tweets --for=condition=Ready',
    '-n tweets rollout status deployment/rabbitmq-consumer',
    'http://203-0-113-20.sslip.io/stats',
  ];
  let at = 0;
  for (const s of steps) {
    const i = plan.indexOf(s, at);
    assert.ok(i >= 0, `the plan has, after the previous step: ${s}\n${plan}`);
    at = i;
  }
  for (const s of imageServices())
    assert.match(plan, new RegExp(`podman push 203-0-113-10.sslip.io:5000/tweets/${s.name}:abc1234\n`), `${s.name} is pushed`);
  assert.doesNotMatch(plan, /[0-9a-f]{48}/, 'no generated password is printed');
  assert.equal(existsSync(join(ROOT, '.data', 'gke', 'demo-project-weather-tweets')), false, 'a dry run writes nothing');

  const only = spawnSync('bash', [join(ROOT, 'deploy', 'gke', 'up.sh'), '--dry-run', '--project', 'p', '--components', 'kafka-only'], {
    encoding: 'utf8',
  });
  assert.equal(only.status, 0, only.stderr);
  assert.doesNotMatch(
    only.stdout,
    /rollout status deployment\/(writer-rabbitmq|rabbitmq-consumer)/,
    'kafka-only waits for no RabbitMQ service',
  );
  const wrong = spawnSync('bash', [join(ROOT, 'deploy', 'gke', 'up.sh'), '--dry-run', '--project', 'p', '--components', 'writers-3'], {
    encoding: 'utf8',
  });
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /no component writers-3/);
  const noProject = spawnSync('bash', [join(ROOT, 'deploy', 'gke', 'up.sh'), '--dry-run'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
  });
  assert.equal(noProject.status, 2);
  assert.match(noProject.stderr, /set the project/);
  const down = spawnSync('bash', [join(ROOT, 'deploy', 'gke', 'down.sh'), '--dry-run', '--project', 'p'], { encoding: 'utf8' });
  assert.equal(down.status, 0, down.stderr);
  assert.match(down.stdout, /namespace tweets kafka rabbitmq valkey monitoring nginx-ingress/);
  assert.match(down.stdout, /gcloud container clusters delete weather-tweets/);
  assert.match(down.stdout, /gcloud compute instances delete zot-registry/);
});

test('every pinned version is used, and the manifests take theirs from versions.env', () => {
  const v = versions();
  const up = `${deployScripts('gke')}\n${deployScripts('aws')}`;
  const kustomization = [join(K8S_DIR, 'base'), ...componentNames().map((c) => join(K8S_DIR, 'components', c))]
    .map((d) => readFileSync(join(d, 'kustomization.yaml'), 'utf8'))
    .join('\n');
  // the local node's: each the version its Go module under deploy/k8s/tools requires
  const node: Record<string, ModuleName> = {
    KUBERNETES_VERSION: 'kubernetes',
    ETCD_VERSION: 'etcd',
    CONTAINERD_VERSION: 'containerd',
    CNI_PLUGINS_VERSION: 'cni',
    COREDNS_VERSION: 'coredns',
    METRICS_SERVER_VERSION: 'metrics-server',
    KUBE_ROUTER_VERSION: 'kube-router',
  };
  for (const [k, m] of Object.entries(node))
    assert.equal(pinnedVersion(m), `v${v[k]}`, `deploy/k8s/tools/${m === 'kubernetes' ? '' : m} builds the pinned ${k}`);
  for (const k of Object.keys(v).filter((x) => !(x in node)))
    assert.ok(up.includes(`$${k}`) || kustomization.includes(`data.${k}`), `${k} is used by a cloud's deploy scripts or the manifests`);
  const y = base('full');
  assert.ok(y.includes(`image: ${v.VALKEY_IMAGE}`), 'Valkey runs the pinned image');
  assert.ok(y.includes(`version: ${v.KAFKA_VERSION}`), 'Kafka runs the pinned version');
  assert.ok(y.includes(`image: ${v.RABBITMQ_IMAGE}`), 'RabbitMQ runs the pinned image');
});

test('shellcheck passes on every shell script', () => {
  const scripts: string[] = [join(ROOT, '.ci', 'run')];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', '.git', '.data', '.tools', 'dist'].includes(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.sh')) scripts.push(p);
    }
  };
  walk(ROOT);
  assert.ok(scripts.length >= 5, scripts.join(', '));
  const r = spawnSync('shellcheck', ['-x', ...scripts], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.error, undefined, 'shellcheck is installed (npm run provision -- --images)');
  assert.equal(r.status, 0, `${scripts.map((s) => relative(ROOT, s)).join(', ')}:\n${r.stdout}${r.stderr}`);
});

test('the Black Friday overlay agrees with its domain: DOMAIN everywhere, its topics, Kafka only, Valkey in two VMs behind the same Service', () => {
  const objs = objects(built.find((b) => b.name === 'overlays/blackfriday')!.full);
  const deployments = objs.filter((o) => o.kind === 'Deployment');
  assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['dispatcher', 'ingest-api', 'kafka-consumer', 'writer-kafka']);
  for (const d of deployments)
    assert.deepEqual(
      d.spec.template.spec.containers[0].env.filter((e: { name: string }) => e.name === 'DOMAIN'),
      [{ name: 'DOMAIN', value: blackfriday.name }],
      d.metadata.name,
    );
  const topics = objs
    .filter((o) => o.kind === 'KafkaTopic')
    .map((t) => t.spec.topicName ?? t.metadata.name)
    .sort();
  assert.deepEqual(topics, [blackfriday.broker.topic, `${blackfriday.broker.topic}.dlq`]);
  assert.ok(
    !objs.some((o) => /rabbitmq/i.test(`${o.kind} ${o.metadata.name}`) && o.kind !== 'Namespace' && o.kind !== 'NetworkPolicy'),
    'nothing of RabbitMQ but its namespace and policies',
  );
  assert.ok(!objs.some((o) => o.kind === 'StatefulSet'), 'no Valkey StatefulSet');
  const vms = objs.filter((o) => o.kind === 'VirtualMachine');
  assert.deepEqual(
    vms.map((v) => v.metadata.name),
    ['valkey-0', 'valkey-1'],
  );
  const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === 'valkey')!;
  const primary = vms[0]!.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(svc.spec.selector as Record<string, string>))
    assert.equal(primary[k], v, `the Service valkey selects the primary VM (${k})`);
  assert.equal(vms[1]!.spec.template.metadata.labels['kubevirt.io/vm'], 'valkey-1', 'the replica is not selected');
  const hpa = Object.fromEntries(
    objs.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((h) => [h.metadata.name, [h.spec.minReplicas, h.spec.maxReplicas]]),
  );
  assert.deepEqual(hpa, { 'ingest-api': [1, 3], dispatcher: [1, 3], 'kafka-consumer': [1, 2] });
  const dashboards = objs.filter(
    (o) => o.kind === 'ConfigMap' && o.metadata.namespace === 'monitoring' && o.metadata.name.startsWith('grafana-dashboards'),
  );
  assert.deepEqual(
    dashboards.map((c) => Object.keys(c.data ?? {}).sort()),
    [['blackfriday-pipeline-health.json', 'blackfriday-sales.json']],
  );
});
