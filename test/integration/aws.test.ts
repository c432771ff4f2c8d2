import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT } from '@tweets/stack';
import { awsCliProblems, eksctlSchema, ensureBotocore, planCommands, validateClusterConfig } from '@tweets/stack/aws';
import {
  commandStubs,
  deployScripts,
  ingressProblems,
  missingInOrder,
  nicOptions,
  operandPods,
  operatorConfig,
  pinnedVersions,
  placementProblems,
  scalingProblems,
  storageProblems,
  unreadableFiles,
  type Obj,
} from '@tweets/stack/cloud';
import { build, type ApiServer, type K8sTools } from '@tweets/stack/k8s';
import {
  applyAll,
  applysetParent,
  barePath,
  bash,
  createPod,
  deployFixture,
  deployScript,
  distinctPods,
  downWithLeftovers,
  log,
  NO_CRDS,
  objects,
  refusedPods,
  stepNotCalled,
} from './deploy.js';

/**
 * deploy/aws and the EKS overlays, checked as deploy/gke is (test/integration/gke.test.ts), without an AWS account:
 * the overlays' volumes and VM placement against the nodes up.sh makes; Black Friday on EKS against Black
 * Friday on GKE; every pod through the API server's PodSecurity admission; the Ingresses against NIC; the
 * plan of up.sh --dry-run (order, pins, nothing printed that is secret, nothing run), every aws command in
 * it against the AWS CLI's models and eksctl's ClusterConfig against eksctl's schema; the registry's user
 * data; the server's dry run of the generated kustomization; down.sh against an API server holding a
 * finalized object, aws and eksctl replaced by stand-ins that record their calls. (kubeconform and the dry
 * run of every EKS variant, and shellcheck: test/integration/k8s.test.ts.)
 */

const AWS = join(ROOT, 'deploy', 'aws');
const WORK = join(ROOT, '.data', 'aws-test');
let tools: K8sTools;
let api: ApiServer;
let built: { name: string; objs: Obj[] }[];

const awsLib = (expr: string, env: Record<string, string> = {}) => {
  const r = bash(`. "${ROOT}/deploy/k8s/base/versions.env"; . "${AWS}/lib.sh"; ${expr}`, { ROOT, ...env });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};
const NODE_LABEL = () => awsLib('printf %s "$KUBEVIRT_NODE_LABEL"');
const NODE_TAINT = () => awsLib('printf %s "$KUBEVIRT_NODE_TAINT"');
/** What keeps specs' pods off the nodes up.sh labels and taints for the VMs. */
const misplaced = (specs: { name: string; spec: Obj['spec'] }[]) => placementProblems(specs, NODE_LABEL(), NODE_TAINT());
const eks = (name: string) => built.find((b) => b.name === name)!.objs;
const eksVariants = () => built.filter((b) => b.name.startsWith('overlays/eks'));
const vmSpecs = (objs: Obj[]) =>
  objs.filter((o) => o.kind === 'VirtualMachine').map((o) => ({ name: `VirtualMachine/${o.metadata.name}`, spec: o.spec.template.spec }));

/** up.sh or down.sh with ARGS, their images built by Podman; env added to the test's own. */
const script = (name: 'up.sh' | 'down.sh', args: string[], env: Record<string, string> = {}, timeout?: number) =>
  deployScript('aws', name, args, { CONTAINER_ENGINE: 'podman', ...env }, timeout);

before(async () => {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  ({ tools, api, built } = await deployFixture(
    (v) => v.startsWith('overlays/eks') || v === 'overlays/blackfriday' || v === 'overlays/gke',
  ));
});

after(async () => {
  await api?.stop();
});

// ---------------------------------------------------------------------------
// The overlays

test("the EKS overlays: every store's volume on gp3, the VMs on the nested-virtualization nodes up.sh labels and taints", () => {
  const eksBuilt = eksVariants();
  assert.ok(eksBuilt.length >= 13, eksBuilt.map((b) => b.name).join(', '));
  for (const b of eksBuilt) {
    assert.deepEqual(storageProblems(b.objs, 'gp3'), [], b.name);
    assert.deepEqual(misplaced(vmSpecs(b.objs)), [], b.name);
    assert.deepEqual(scalingProblems(b.objs), [], b.name);
    assert.deepEqual(unreadableFiles(b.objs), [], b.name);
  }
  const sc = eks('overlays/eks').find((o) => o.kind === 'StorageClass')! as Obj & {
    provisioner: string;
    parameters: Record<string, string>;
    volumeBindingMode: string;
  };
  assert.deepEqual(
    [sc.provisioner, sc.parameters.type, sc.volumeBindingMode, sc.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']],
    ['ebs.csi.aws.com', 'gp3', 'WaitForFirstConsumer', 'true'],
  );
  assert.equal(vmSpecs(eks('overlays/eks-blackfriday')).length, 2, 'the two VMs');
  // KubeVirt's own agent goes where the VMs go, or no VM starts there
  const cr = parse(readFileSync(join(AWS, 'kubevirt-cr.yaml'), 'utf8')) as Obj;
  assert.deepEqual(misplaced([{ name: 'KubeVirt workloads', spec: cr.spec.workloads.nodePlacement }]), []);
  // and the checks can fail: GKE's volumes and VMs are not EKS's
  assert.match(
    storageProblems(eks('overlays/blackfriday'), 'gp3').join('\n'),
    /StatefulSet|PersistentVolumeClaim\/valkey\/valkey-0-data: storage class premium-rwo, not gp3/,
  );
  assert.match(
    misplaced(vmSpecs(eks('overlays/blackfriday'))).join('\n'),
    /valkey-0: does not tolerate the taint weather-tweets.io\/kubevirt=true:NoSchedule/,
  );
});

/** A variant's objects with what only the cloud decides taken out: storage classes, the VMs' placement. */
function cloudNeutral(objs: Obj[], storageClass: string): string {
  const out = structuredClone(objs).filter((o) => o.kind !== 'StorageClass');
  for (const o of out.filter((x) => x.kind === 'VirtualMachine')) {
    delete o.spec.template.spec.nodeSelector;
    delete o.spec.template.spec.tolerations;
  }
  return stringify(out).replaceAll(storageClass, '<class>');
}

test('Black Friday on EKS is Black Friday on GKE, but for the storage class and where the VMs run', () => {
  for (const [gke, aws] of [
    ['overlays/blackfriday', 'overlays/eks-blackfriday'],
    ['overlays/gke', 'overlays/eks'],
  ] as const) {
    assert.equal(
      cloudNeutral(eks(aws), 'gp3'),
      cloudNeutral(eks(gke), 'premium-rwo'),
      `${aws} has everything ${gke} has, changed in nothing else`,
    );
  }
  const without = eks('overlays/eks-blackfriday').filter((o) => !(o.kind === 'KafkaTopic' && o.metadata.name === 'blackfriday-sales-dlq'));
  assert.notEqual(
    cloudNeutral(without, 'gp3'),
    cloudNeutral(eks('overlays/blackfriday'), 'premium-rwo'),
    'the comparison sees one object left out',
  );
});

test("every pod on EKS, ours and the operators', is admitted by its namespace's Pod Security level", { skip: NO_CRDS }, () => {
  const cfg = operatorConfig(deployScripts('aws'));
  assert.ok(cfg.kubevirt?.spec?.workloads, 'the KubeVirt CR is deploy/aws/kubevirt-cr.yaml');
  const pods = distinctPods(eksVariants(), cfg);
  const launchers = pods.filter((p) => p.metadata.name.startsWith('virt-launcher-valkey-0'));
  assert.ok(launchers.length > 0, "the VMs' launcher pods are among them");
  assert.deepEqual(misplaced(launchers.map((p) => ({ name: p.metadata.name, spec: p.spec }))), [], "and carry the VMs' placement");
  assert.deepEqual(refusedPods(api, pods), []);
  // the check can fail: a launcher pod without the seccomp profile deploy/aws/kubevirt-cr.yaml asks for
  const bare = operandPods(eks('overlays/eks-blackfriday'), { strimziProvider: 'restricted' }).find(
    (p) => p.metadata.name === 'virt-launcher-valkey-0',
  )!;
  assert.match(createPod(api, bare).output, /violates PodSecurity "restricted/);
});

test("every Ingress is one the pinned NIC takes; the controller's Service asks the AWS Load Balancer Controller for an internet-facing NLB", () => {
  const scripts = deployScripts('aws');
  const opts = nicOptions(scripts);
  for (const b of eksVariants()) assert.deepEqual(ingressProblems(b.objs, opts), [], b.name);
  assert.match(
    scripts,
    /NIC_ARGS=\(--values "\$ROOT\/deploy\/k8s\/overlays\/eks\/nginx-ingress-values.yaml"\)/,
    "up.sh gives the chart the overlay's values",
  );
  const values = parse(readFileSync(join(ROOT, 'deploy', 'k8s', 'overlays', 'eks', 'nginx-ingress-values.yaml'), 'utf8')) as {
    controller: { service: { annotations: Record<string, string> } };
  };
  const a = values.controller.service.annotations;
  assert.deepEqual(
    [
      a['service.beta.kubernetes.io/aws-load-balancer-type'],
      a['service.beta.kubernetes.io/aws-load-balancer-nlb-target-type'],
      a['service.beta.kubernetes.io/aws-load-balancer-scheme'],
    ],
    ['external', 'ip', 'internet-facing'],
  );
});

/** The repository files a cloud's scripts name ($ROOT/..., but .data/ and paths built from variables). */
const filesNamed = (scripts: string) => [
  ...new Set([...scripts.matchAll(/\$ROOT\/([\w./-]+)/g)].map((m) => m[1]!).filter((f) => !f.startsWith('.data/') && !/\/$/.test(f))),
];

test('every file the deploy scripts of both clouds name exists', () => {
  for (const cloud of ['aws', 'gke']) {
    const named = filesNamed(deployScripts(cloud));
    assert.ok(named.length >= 8, `${cloud}: ${named.join(', ')}`);
    assert.deepEqual(
      named.filter((f) => !existsSync(join(ROOT, f))),
      [],
      `${cloud}: files named but absent`,
    );
  }
  assert.deepEqual(
    filesNamed('. "$ROOT/deploy/aws/kubevirt.yaml"').filter((f) => !existsSync(join(ROOT, f))),
    ['deploy/aws/kubevirt.yaml'],
    'the check can fail',
  );
});

// ---------------------------------------------------------------------------
// up.sh

const STUBBED = ['aws', 'eksctl', 'helm', 'kubectl', 'podman', 'npm', 'curl'];

test('up.sh --dry-run --overlay blackfriday prints the whole plan in order, with the pinned versions, and runs and writes nothing', () => {
  const s = commandStubs(Object.fromEntries(STUBBED.map((c) => [c, []])));
  const env = { PATH: `${s.dir}:${process.env.PATH}` };
  const r = script('up.sh', ['--dry-run', '--overlay', 'blackfriday', '--tag', 'abc1234'], env);
  assert.equal(r.status, 0, r.stderr);
  const plan = r.stdout;
  assert.doesNotMatch(plan, /[0-9a-f]{48}|\$2[aby]\$/, 'no generated password and no bcrypt hash is printed');
  const again = script('up.sh', ['--dry-run', '--overlay', 'blackfriday', '--tag', 'abc1234'], env);
  assert.equal(again.stdout, plan, 'the same plan twice');
  const v = pinnedVersions();
  const steps = [
    `aws --version at least ${v.AWS_CLI_VERSION}, eksctl version at least ${v.EKSCTL_VERSION}`,
    'aws sts get-caller-identity',
    'aws ec2 describe-vpcs --region us-east-1 --filters Name=is-default\\,Values=true',
    'aws ec2 allocate-address --region us-east-1 --domain vpc',
    'aws ec2 create-security-group',
    'FromPort=80\\,ToPort=80',
    'FromPort=5000\\,ToPort=5000',
    `ZOT_META_zot_version=${v.ZOT_VERSION}`,
    'aws ec2 run-instances --region us-east-1 --image-id ami-0123456789abcdef0 --instance-type t3.small',
    'aws ec2 associate-address',
    'https://203-0-113-10.sslip.io:5000/v2/',
    `version: "${v.EKS_VERSION}"`,
    `version: v${v.EBS_CSI_DRIVER_VERSION}`,
    'eksctl create cluster -f',
    'aws eks update-kubeconfig --region us-east-1 --name weather-tweets --alias eks_us-east-1_weather-tweets',
    'aws iam create-role --role-name weather-tweets-us-east-1-kubevirt-node',
    'aws eks create-access-entry',
    '--type EC2_LINUX',
    'aws ec2 create-launch-template',
    'NestedVirtualization\\":\\ \\"enabled',
    'aws autoscaling create-auto-scaling-group',
    'wait node -l weather-tweets.io/kubevirt=true --for=condition=Ready',
    'run images -- --tag abc1234 --platform linux/amd64',
    'podman push 203-0-113-10.sslip.io:5000/tweets/ingest-api:abc1234',
    `podman pull --platform linux/amd64 ${v.VALKEY_VM_DISK_IMAGE}`,
    'podman push 203-0-113-10.sslip.io:5000/tweets/valkey-vm-disk:',
    'run artifact -- push --count 10000',
    'overlays/eks/storageclass.yaml',
    `eks/aws-load-balancer-controller --version ${v.AWS_LBC_CHART_VERSION}`,
    `strimzi-kafka-operator --version ${v.STRIMZI_VERSION}`,
    `nginx-ingress --version ${v.NGINX_INGRESS_CHART_VERSION}`,
    'overlays/eks/nginx-ingress-values.yaml',
    `kubevirt/releases/download/v${v.KUBEVIRT_VERSION}/kubevirt-operator.yaml`,
    'deploy/aws/kubevirt-cr.yaml',
    'devices\\\\.kubevirt\\\\.io/kvm',
    'get service nginx-ingress-controller',
    'create secret generic valkey-users',
    '-n valkey create secret docker-registry registry-pull',
    `prometheus-community/prometheus --version ${v.PROMETHEUS_CHART_VERSION}`,
    `grafana-community/grafana --version ${v.GRAFANA_CHART_VERSION}`,
    "overlays/eks-blackfriday, images tweets/* -> 203-0-113-10.sslip.io:5000/tweets/*:abc1234, Ingress host k8s-nginxing-nginxing-0123456789.elb.us-east-1.amazonaws.com, the VMs' boot disk -> 203-0-113-10.sslip.io:5000/tweets/valkey-vm-disk:",
    '--field-manager=deploy-aws --prune --applyset=',
    '-n kafka wait kafka/tweets --for=condition=Ready',
    '-n valkey wait vm/valkey-0 vm/valkey-1 --for=condition=Ready',
    '-n tweets rollout status deployment/kafka-consumer',
    'http://k8s-nginxing-nginxing-0123456789.elb.us-east-1.amazonaws.com/stats',
    'done (dry run): nothing was created',
  ];
  assert.equal(missingInOrder(plan, steps), undefined, `the plan has each step, in order:\n${plan}`);
  assert.doesNotMatch(
    plan,
    /cert-manager|rabbitmq-cluster-operator|rollout status deployment\/(writer-rabbitmq|rabbitmq-consumer)/,
    'Kafka only: nothing of RabbitMQ',
  );
  assert.equal(existsSync(join(ROOT, '.data', 'aws', 'us-east-1-weather-tweets')), false, 'a dry run writes nothing');
  for (const c of STUBBED) assert.deepEqual(s.calls(c), [], `a dry run runs no ${c}`);
  assert.notEqual(missingInOrder(plan, [...steps].reverse()), undefined, 'the order check can fail');
});

test('up.sh refuses what EKS does not offer, and the weather system needs no VM nodes', () => {
  const weather = script('up.sh', ['--dry-run', '--tag', 't', '--components', 'kafka-only,writers-2']);
  assert.equal(weather.status, 0, weather.stderr);
  assert.doesNotMatch(weather.stdout, /create-launch-template|kubevirt-operator|cert-manager/);
  assert.match(
    weather.stdout,
    /aws autoscaling describe-auto-scaling-groups .*weather-tweets-kubevirt/,
    'it looks for a VM group left billing',
  );
  for (const [args, message] of [
    [['--components', 'valkey-kubevirt'], /valkey-kubevirt is not offered on its own on EKS/],
    [['--overlay', 'gke'], /no overlay gke for EKS/],
    [['--components', 'writers-3'], /no component writers-3/],
  ] as const) {
    const r = script('up.sh', ['--dry-run', ...args]);
    assert.equal(r.status, 2, r.stdout);
    assert.match(r.stderr, message);
  }
});

test('every aws command of the plans is one the AWS CLI takes: service, operation, options, values', () => {
  const data = ensureBotocore(log);
  const plans = [
    script('up.sh', ['--dry-run', '--overlay', 'blackfriday', '--tag', 't']),
    script('up.sh', ['--dry-run', '--tag', 't', '--components', 'locust', '--zot-source-ranges', '198.51.100.7/32,192.0.2.0/24']),
    script('down.sh', ['--dry-run']),
  ];
  for (const p of plans) assert.equal(p.status, 0, p.stderr);
  const cmds = plans.flatMap((p) => planCommands(p.stdout));
  const aws = cmds.filter((c) => c[0] === 'aws');
  assert.ok(aws.length >= 60, `the plans' aws commands (${aws.length})`);
  assert.deepEqual(awsCliProblems(cmds, data), []);
  // the check refuses what the CLI refuses: a misspelled option, a field the shape lacks, a value out of its enum
  const bad = plans[0]!.stdout
    .replace('--allocation-id ', '--allocation-ids ')
    .replace('NestedVirtualization\\":\\ \\"enabled', 'NestedVirtualization\\":\\ \\"enable')
    .replace('HttpTokens=required', 'HttpToken=required');
  const problems = awsCliProblems(planCommands(bad), data).join('\n');
  assert.match(problems, /associate-address: no option --allocation-ids/);
  assert.match(problems, /NestedVirtualization: enable is not one of enabled, disabled/);
  assert.match(problems, /InstanceMetadataOptionsRequest has no member HttpToken/);
});

test("eksctl's ClusterConfig that up.sh writes passes the pinned eksctl's schema, strictly", () => {
  const plan = script('up.sh', ['--dry-run', '--tag', 't']).stdout;
  const m = /^\+ write \S+\/eksctl-cluster\.yaml:\n((?: {4}.*\n)+)/m.exec(plan);
  assert.ok(m, `the plan shows the ClusterConfig:\n${plan}`);
  const yaml = m[1]!.replace(/^ {4}/gm, '');
  const config = parse(yaml) as {
    metadata: { version: string };
    addons: { name: string; version?: string; configurationValues?: string }[];
  };
  const v = pinnedVersions();
  assert.equal(config.metadata.version, v.EKS_VERSION);
  assert.equal(config.addons.find((a) => a.name === 'aws-ebs-csi-driver')?.version, `v${v.EBS_CSI_DRIVER_VERSION}`);
  assert.deepEqual(
    JSON.parse(config.addons.find((a) => a.name === 'vpc-cni')!.configurationValues!),
    { enableNetworkPolicy: 'true' },
    'the CNI enforces the NetworkPolicies',
  );
  const schema = eksctlSchema(v.EKSCTL_VERSION!, log);
  const ok = validateClusterConfig(tools.kubeconform, schema, yaml);
  assert.ok(ok.ok, ok.output);
  const mutations: [string, string][] = [
    ['gateway: Disable', 'gateway: Disabled'],
    ['useDefaultPodIdentityAssociations', 'useDefaultPodIdentityAssociation'],
  ];
  for (const [from, to] of mutations) {
    const bad = validateClusterConfig(tools.kubeconform, schema, yaml.replace(from, to));
    assert.equal(bad.ok, false, `the schema refuses ${to}`);
  }
});

test("the VM nodes' launch template: nested virtualization on an instance type that has it, joining with the label and taint the overlay expects", () => {
  const plan = script('up.sh', ['--dry-run', '--overlay', 'blackfriday', '--tag', 't', '--kubevirt-instance-type', 'c8i.xlarge']).stdout;
  const cmd = planCommands(plan).find((c) => c[1] === 'ec2' && c[2] === 'create-launch-template')!;
  const data = JSON.parse(cmd[cmd.indexOf('--launch-template-data') + 1]!) as {
    InstanceType: string;
    CpuOptions: { NestedVirtualization: string };
    UserData: string;
    ImageId: string;
  };
  assert.equal(data.CpuOptions.NestedVirtualization, 'enabled');
  assert.match(data.InstanceType, /^[cmr]8i(-flex)?\./, 'C8i, M8i or R8i: the types that have nested virtualization');
  assert.match(
    data.ImageId,
    new RegExp(`^resolve:ssm:/aws/service/eks/optimized-ami/${pinnedVersions().EKS_VERSION}/amazon-linux-2023/x86_64/`),
  );
  const userData = Buffer.from(data.UserData, 'base64').toString('utf8');
  assert.match(userData, /^modprobe kvm_intel/m, "KVM's module loaded");
  const config = parse(userData.split('Content-Type: application/node.eks.aws\n')[1]!.split('\n--')[0]!) as {
    kind: string;
    spec: { kubelet: { flags: string[] } };
  };
  assert.equal(config.kind, 'NodeConfig');
  assert.deepEqual(config.spec.kubelet.flags, [`--node-labels=${NODE_LABEL()}`, `--register-with-taints=${NODE_TAINT()}`]);
  const wrong = script('up.sh', ['--dry-run', '--overlay', 'blackfriday', '--tag', 't', '--kubevirt-instance-type', 'm7a.large']).stdout;
  const t = JSON.parse(
    planCommands(wrong)
      .find((c) => c[2] === 'create-launch-template')!
      .at(-1)!,
  ) as { InstanceType: string };
  assert.doesNotMatch(t.InstanceType, /^[cmr]8i(-flex)?\./, 'the type check can fail');
});

test("the registry's user data: cloud-init runs the startup script at every boot, with its metadata, under EC2's 16 KB", () => {
  const env = { ZOT_VERSION: '9.9.9', ZOT_HOST: 'reg.example', HTPASSWD: 'tweets:$2y$05$abcdefghijklmnopqrstuv', EMAIL: '' };
  const userData = awsLib('zot_user_data', env);
  assert.ok(Buffer.byteLength(userData) < 16_384, `${Buffer.byteLength(userData)} bytes`);
  assert.match(userData, /#cloud-config\ncloud_final_modules:\n {2}- \[scripts-user, always\]/);
  const part = userData.split('Content-Type: text/x-shellscript; charset="us-ascii"\n\n')[1]!.replace(/--==zot==--\n$/, '');
  const file = join(WORK, 'zot-user-data.sh');
  writeFileSync(file, part);
  const md = (key: string) => bash(`. "${file}"; md ${key}`, { ZOT_STARTUP_LIB: '1' });
  assert.equal(md('zot-host').stdout, 'reg.example\n');
  assert.equal(md('zot-htpasswd').stdout, `${env.HTPASSWD}\n`, 'the bcrypt line, $ and all');
  assert.equal(md('acme-email').stdout, '\n');
  assert.deepEqual(JSON.parse(md('zot-config').stdout), JSON.parse(readFileSync(join(ROOT, 'deploy', 'zot', 'config.json'), 'utf8')));
  assert.match(part, /^install_zot\(\) \{/m, 'the install step with the checksum check (gke.test.ts runs it) is in it');
});

test("up.sh checks every prerequisite first, the CLIs' versions too, each named with where to get it", () => {
  const bin = barePath(['sort', 'node']);
  const none = spawnSync(join(bin, 'bash'), [join(AWS, 'up.sh')], { encoding: 'utf8', env: { PATH: bin, HOME: WORK } });
  assert.equal(none.status, 1, none.stderr);
  for (const t of ['aws', 'eksctl', 'kubectl', 'helm', 'htpasswd', 'podman or docker', 'go: oras'])
    assert.match(none.stderr, new RegExp(`missing: ${t}.{10,}`), `${t} is named, with a hint`);
  // every tool there, but the AWS CLI and eksctl older than the pins
  const s = commandStubs({
    aws: [[/^--version$/, 'aws-cli/2.30.1 Python/3.13.7 Linux/6.1 exe/x86_64']],
    eksctl: [[/^version$/, '0.229.0']],
    ...Object.fromEntries(['kubectl', 'helm', 'openssl', 'htpasswd', 'base64', 'curl', 'git', 'npm', 'podman', 'oras'].map((c) => [c, []])),
  });
  const old = spawnSync(join(bin, 'bash'), [join(AWS, 'up.sh')], { encoding: 'utf8', env: { PATH: `${s.dir}:${bin}`, HOME: WORK } });
  assert.equal(old.status, 1, old.stderr);
  const v = pinnedVersions();
  assert.match(old.stderr, new RegExp(`missing: aws ${v.AWS_CLI_VERSION} or newer \\(this is 2\\.30\\.1\\)`));
  assert.match(old.stderr, new RegExp(`missing: eksctl ${v.EKSCTL_VERSION} or newer \\(this is 0\\.229\\.0\\)`));
  assert.deepEqual(s.calls('aws'), ['--version'], 'nothing asked of AWS');
  assert.equal(existsSync(join(ROOT, '.data', 'aws', 'us-east-1-weather-tweets')), false, 'nothing was made');
});

test(
  "the server's dry run of the kustomization up.sh writes: the VMs' disk from Zot with its login, the Ingresses' host",
  { skip: NO_CRDS },
  () => {
    applysetParent(api);
    const r = script('up.sh', ['--dry-run', '--overlay', 'blackfriday', '--tag', 't1', '--context', 'validate'], {
      KUBECONFIG: api.kubeconfig,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /the server's dry run failed/, r.stdout.slice(-3000));
    assert.match(r.stdout, /server: virtualmachine.kubevirt.io\/valkey-0 serverside-applied \(server dry run\)/);
    const objs = objects(build(tools.kubectl, join(ROOT, '.data', 'aws-plan', 'us-east-1-weather-tweets', 'kustomize')));
    for (const vm of objs.filter((o) => o.kind === 'VirtualMachine'))
      assert.deepEqual(
        vm.spec.template.spec.volumes[0].containerDisk,
        { image: '203-0-113-10.sslip.io:5000/tweets/valkey-vm-disk:13', imagePullSecret: 'registry-pull' },
        vm.metadata.name,
      );
    assert.ok(
      deployScripts('aws').includes('apply_secret valkey registry-pull docker-registry'),
      "up.sh makes that login in the VMs' namespace",
    );
    const hosts = new Set(objs.filter((o) => o.kind === 'Ingress').map((o) => o.spec.rules[0].host));
    assert.deepEqual([...hosts], ['k8s-nginxing-nginxing-0123456789.elb.us-east-1.amazonaws.com']);
  },
);

// ---------------------------------------------------------------------------
// down.sh, last: it deletes the namespaces (which, with no controller here, stay Terminating)

test(
  'down.sh deletes everything that bills, in order, each waited for, though a KafkaTopic keeps its finalizer and a volume stays',
  { skip: NO_CRDS },
  () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'nginx-ingress-controller', namespace: 'nginx-ingress' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    };
    applyAll(api, [svc]);
    const lb = 'k8s-nginxing-nginxing-abc.elb.us-east-1.amazonaws.com';
    const status = api.kubectl([
      '-n',
      'nginx-ingress',
      'patch',
      'service',
      'nginx-ingress-controller',
      '--subresource',
      'status',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ status: { loadBalancer: { ingress: [{ hostname: lb }] } } }),
    ]);
    assert.ok(status.ok, status.output);
    const s = commandStubs({
      eksctl: [[/^get cluster/, 'NAME weather-tweets']],
      aws: [
        [/^elbv2 describe-load-balancers/, 'arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/k8s/1'],
        [/^autoscaling describe-auto-scaling-groups .*AutoScalingGroupName/, 'weather-tweets-kubevirt'],
        [/^autoscaling describe-auto-scaling-groups .*InstanceId/, 'i-0aaa\ti-0bbb'],
        [/^ec2 describe-instances/, 'i-0zot'],
        [/^ec2 describe-addresses/, 'eipalloc-0zot'],
        [/^ec2 describe-security-groups/, 'sg-0zot'],
      ],
    });
    downWithLeftovers(api, 'aws', {
      args: ['--context', 'validate'],
      stubDir: s.dir,
      pv: 'pvc-0002',
      csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-0a1b2c3d4e5f60718' },
      env: { CONTAINER_ENGINE: 'podman' },
      timeout: 180_000,
    });
    const calls = s.calls();
    const order = [
      `aws elbv2 describe-load-balancers --region us-east-1 --query LoadBalancers[?DNSName=='${lb}'].LoadBalancerArn`,
      'aws elbv2 wait load-balancers-deleted --region us-east-1 --load-balancer-arns arn:aws:elasticloadbalancing',
      'aws autoscaling delete-auto-scaling-group --region us-east-1 --auto-scaling-group-name weather-tweets-kubevirt --force-delete',
      'aws ec2 wait instance-terminated --region us-east-1 --instance-ids i-0aaa i-0bbb',
      'aws ec2 delete-launch-template --region us-east-1 --launch-template-name weather-tweets-kubevirt',
      'eksctl delete cluster --name weather-tweets --region us-east-1 --wait',
      'aws iam delete-instance-profile --instance-profile-name weather-tweets-us-east-1-kubevirt-node',
      'aws iam delete-role --role-name weather-tweets-us-east-1-kubevirt-node',
      'aws ec2 delete-volume --region us-east-1 --volume-id vol-0a1b2c3d4e5f60718',
      'aws ec2 wait volume-deleted --region us-east-1 --volume-ids vol-0a1b2c3d4e5f60718',
      'aws ec2 terminate-instances --region us-east-1 --instance-ids i-0zot',
      'aws ec2 wait instance-terminated --region us-east-1 --instance-ids i-0zot',
      'aws ec2 release-address --region us-east-1 --allocation-id eipalloc-0zot',
      'aws ec2 delete-security-group --region us-east-1 --group-id sg-0zot',
    ];
    const missing = stepNotCalled(calls, order);
    assert.equal(missing, undefined, `${missing}, after the previous one:\n${calls.join('\n')}`);
  },
);
