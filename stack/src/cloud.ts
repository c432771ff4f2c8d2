/**
 * Checks of deploy/ for what only a real cluster used to show, on every cloud (test/integration/gke.test.ts and
 * test/integration/aws.test.ts run them):
 *
 *  - operandPods: the Pods the operators create from the custom resources, as each pinned operator's code
 *    builds their security context and volumes, so the API server's PodSecurity admission can judge them
 *    against their namespace's level, like the Pods of our own templates (podsOf);
 *  - unreadableFiles: the files of Secret and ConfigMap volumes, owned and moded as the kubelet writes
 *    them, against the user and groups each container runs as;
 *  - ingressProblems: every Ingress against the F5 NGINX Ingress Controller's rules;
 *  - scalingProblems: HPAs, replicas and PodDisruptionBudgets that contradict each other;
 *  - storageProblems, placementProblems: every volume on a cloud's class, the VMs on the nodes meant for them;
 *  - and what the deploy scripts are read and run with: their text (deployScripts), the Secrets they make
 *    (secretsMadeBy), the pinned versions, stand-ins for the cloud's CLIs that record their calls
 *    (commandStubs), a plan's steps in order (missingInOrder).
 *
 * Each model cites the upstream code it follows; a change of pinned version is a reason to re-read it.
 */

import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from './layout.js';
import { tempDir } from './roots.js';

type Json = Record<string, any>;
export type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
};

const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  runAsNonRoot: true,
  seccompProfile: { type: 'RuntimeDefault' },
  capabilities: { drop: ['ALL'] },
};

/** How the operators are configured (read from a cloud's deploy scripts and the files they apply). */
export interface OperatorConfig {
  /** STRIMZI_POD_SECURITY_PROVIDER_CLASS as up.sh sets it ('' when it does not: Strimzi's default, baseline). */
  strimziProvider: string;
  /** The KubeVirt CR up.sh applies (undefined: the release's, which configures no seccomp profile). */
  kubevirt?: Obj;
}

/**
 * The operator configuration a cloud's scripts set up (deployScripts' text): Strimzi's provider as the shared
 * step 5 passes it, and the KubeVirt CR the cloud's up.sh names in KUBEVIRT_CR (read from the repository).
 */
export function operatorConfig(scripts: string, readFile = (path: string) => readFileSync(join(ROOT, path), 'utf8')): OperatorConfig {
  const provider =
    /extraEnvs\[(\d+)\]\.name=STRIMZI_POD_SECURITY_PROVIDER_CLASS'?\s+--set\s+'?extraEnvs\[\1\]\.value=([\w.]+)/.exec(scripts)?.[2] ?? '';
  const cr = /^KUBEVIRT_CR="\$ROOT\/(deploy\/[\w/.-]+\.yaml)"$/m.exec(scripts)?.[1];
  return { strimziProvider: provider, kubevirt: cr ? (parse(readFile(cr)) as Obj) : undefined };
}

const restrictedProvider = (p: string) => p === 'restricted' || p.endsWith('.RestrictedPodSecurityProvider');

const pod = (ns: string, name: string, labels: Record<string, string>, spec: Json): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels },
  spec,
});

/**
 * Strimzi 1.2 (api/.../BaselinePodSecurityProvider.java, RestrictedPodSecurityProvider.java): a Kafka pod
 * with persistent storage gets fsGroup 0; its containers get no security context from the baseline
 * provider and the restricted one's (no escalation, non-root, RuntimeDefault seccomp, drop ALL) otherwise.
 */
function strimziPods(objs: Obj[], provider: string): Obj[] {
  const sc = restrictedProvider(provider) ? RESTRICTED_CONTAINER : undefined;
  const out: Obj[] = [];
  for (const k of objs.filter((o) => o.kind === 'Kafka')) {
    const ns = k.metadata.namespace!;
    for (const pool of objs.filter((o) => o.kind === 'KafkaNodePool' && o.metadata.labels?.['strimzi.io/cluster'] === k.metadata.name)) {
      const persistent = JSON.stringify(pool.spec.storage ?? {}).includes('persistent-claim');
      const volumes = [
        { name: 'data-0', ...(persistent ? { persistentVolumeClaim: { claimName: 'data-0' } } : { emptyDir: {} }) },
        { name: 'kafka-metrics-and-logging', configMap: { name: 'cm' } },
        { name: 'cluster-ca', secret: { secretName: 'ca' } },
      ];
      out.push(
        pod(
          ns,
          `${k.metadata.name}-${pool.metadata.name}-0`,
          { 'strimzi.io/cluster': k.metadata.name },
          {
            ...(persistent ? { securityContext: { fsGroup: 0 } } : {}),
            containers: [
              {
                name: 'kafka',
                image: 'strimzi/kafka',
                ...(sc ? { securityContext: sc } : {}),
                volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: `/v/${v.name}` })),
              },
            ],
            volumes,
          },
        ),
      );
    }
    const eo = k.spec?.entityOperator;
    if (eo) {
      const containers = [...(eo.topicOperator ? ['topic-operator'] : []), ...(eo.userOperator ? ['user-operator'] : [])].map((name) => ({
        name,
        image: 'strimzi/operator',
        ...(sc ? { securityContext: sc } : {}),
      }));
      out.push(
        pod(
          ns,
          `${k.metadata.name}-entity-operator`,
          { 'strimzi.io/cluster': k.metadata.name },
          {
            containers,
            volumes: [
              { name: 'tmp', emptyDir: {} },
              { name: 'certs', secret: { secretName: 'eo-certs' } },
            ],
          },
        ),
      );
    }
  }
  return out;
}

/**
 * The RabbitMQ Cluster Operator v2.22 (internal/resource/statefulset.go): pod fsGroup 0, runAsUser 999,
 * non-root, RuntimeDefault seccomp; the setup-container and rabbitmq containers without escalation or
 * capabilities, read-only root, non-root.
 */
function rabbitmqPods(objs: Obj[]): Obj[] {
  const sc = { ...RESTRICTED_CONTAINER, privileged: false, readOnlyRootFilesystem: true };
  return objs
    .filter((o) => o.kind === 'RabbitmqCluster')
    .map((r) =>
      pod(
        r.metadata.namespace!,
        `${r.metadata.name}-server-0`,
        { 'app.kubernetes.io/name': r.metadata.name },
        {
          securityContext: { fsGroup: 0, runAsUser: 999, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
          initContainers: [{ name: 'setup-container', image: r.spec.image, securityContext: sc }],
          containers: [{ name: 'rabbitmq', image: r.spec.image, securityContext: sc }],
          volumes: [
            { name: 'persistence', persistentVolumeClaim: { claimName: `persistence-${r.metadata.name}-server-0` } },
            { name: 'plugins-conf', configMap: { name: 'plugins' } },
            { name: 'rabbitmq-confd', projected: { sources: [{ secret: { name: 'default-user' } }] } },
            { name: 'erlang-cookie-secret', secret: { secretName: 'cookie' } },
            { name: 'rabbitmq-plugins', emptyDir: {} },
            {
              name: 'pod-info',
              downwardAPI: { items: [{ path: 'skipPreStopChecks', fieldRef: { fieldPath: "metadata.labels['skipPreStopChecks']" } }] },
            },
          ],
        },
      ),
    );
}

/**
 * KubeVirt 1.6 to 1.9 (pkg/virt-controller/services/template.go computePodSecurityContext, rendercontainer.go,
 * pkg/container-disk): a non-root VMI's virt-launcher pod runs as 107 with fsGroup 107; its seccomp profile is
 * set only by the KubeVirt CR's seccompConfiguration.virtualMachineInstanceProfile.customProfile; the compute
 * container adds NET_BIND_SERVICE, every container drops ALL and may not escalate. The VM template's labels
 * are the pod's.
 */
function kubevirtPods(objs: Obj[], kv?: Obj): Obj[] {
  const custom = kv?.spec?.configuration?.seccompConfiguration?.virtualMachineInstanceProfile?.customProfile;
  const seccomp = custom?.localhostProfile
    ? { type: 'Localhost', localhostProfile: custom.localhostProfile }
    : custom?.runtimeDefaultProfile
      ? { type: 'RuntimeDefault' }
      : undefined;
  const nonRoot = { runAsUser: 107, runAsNonRoot: true, allowPrivilegeEscalation: false };
  return objs
    .filter((o) => o.kind === 'VirtualMachine')
    .map((vm) => {
      const t = vm.spec.template;
      const volumes = (t.spec.volumes ?? []).map((v: Json) =>
        v.persistentVolumeClaim
          ? { name: v.name, persistentVolumeClaim: { claimName: v.persistentVolumeClaim.claimName } }
          : v.secret
            ? { name: v.name, secret: { secretName: v.secret.secretName } }
            : { name: v.name, emptyDir: {} },
      );
      const disks = (t.spec.volumes ?? [])
        .filter((v: Json) => v.containerDisk)
        .map((v: Json) => ({
          name: `volume${v.name}`,
          image: v.containerDisk.image,
          securityContext: { ...nonRoot, capabilities: { drop: ['ALL'] } },
        }));
      return pod(
        vm.metadata.namespace!,
        `virt-launcher-${vm.metadata.name}`,
        { 'kubevirt.io': 'virt-launcher', ...(t.metadata?.labels ?? {}) },
        {
          securityContext: {
            fsGroup: 107,
            runAsUser: 107,
            runAsGroup: 107,
            runAsNonRoot: true,
            ...(seccomp ? { seccompProfile: seccomp } : {}),
          },
          // the VM's scheduling is its pod's (pkg/virt-controller/services/template.go), beside kubevirt.io/schedulable
          nodeSelector: { 'kubevirt.io/schedulable': 'true', ...(t.spec.nodeSelector ?? {}) },
          ...(t.spec.tolerations ? { tolerations: t.spec.tolerations } : {}),
          initContainers: [
            {
              name: 'container-disk-binary',
              image: 'virt-launcher',
              securityContext: { ...nonRoot, runAsGroup: 107, capabilities: { drop: ['ALL'] } },
            },
          ],
          containers: [
            {
              name: 'compute',
              image: 'virt-launcher',
              securityContext: { ...nonRoot, runAsGroup: 107, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } },
            },
            ...disks,
          ],
          volumes,
        },
      );
    });
}

/** Every Pod the operators create from the custom resources among objs. */
export function operandPods(objs: Obj[], cfg: OperatorConfig): Obj[] {
  return [...strimziPods(objs, cfg.strimziProvider), ...rabbitmqPods(objs), ...kubevirtPods(objs, cfg.kubevirt)];
}

/** The Pods of the workloads' templates (Deployments, StatefulSets, Jobs, DaemonSets) among objs. */
export function podsOf(objs: Obj[]): Obj[] {
  return objs
    .filter((o) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(o.kind) && o.spec?.template?.spec)
    .map((o) => {
      // a StatefulSet's claims become volumes of its pods
      const claims = (o.spec.volumeClaimTemplates ?? []).map((c: Json) => ({
        name: c.metadata.name,
        persistentVolumeClaim: { claimName: `${c.metadata.name}-${o.metadata.name}-0` },
      }));
      const spec = { ...o.spec.template.spec, volumes: [...(o.spec.template.spec.volumes ?? []), ...claims] };
      return pod(o.metadata.namespace!, `${o.kind.toLowerCase()}-${o.metadata.name}`, o.spec.template.metadata?.labels ?? {}, spec);
    });
}

// ---------------------------------------------------------------------------
// Files of Secret and ConfigMap volumes

/**
 * A Secret or ConfigMap volume's file as the kubelet writes it: owned by root (AtomicWriter runs as root),
 * mode the item's or the volume's defaultMode (0644 by default); with the pod's fsGroup, the kubelet's
 * SetVolumeOwnership (pkg/volume/volume_linux.go changeFilePermission) gives it to that group and adds
 * group read (these volumes are read-only: roMask 0440).
 */
function volumeFile(podSpec: Json, volume: Json, key?: string): { uid: number; gid: number; mode: number } {
  const src = volume.secret ?? volume.configMap ?? volume.projected;
  const item = (src?.items ?? []).find((i: Json) => i.key === key);
  const mode = item?.mode ?? src?.defaultMode ?? 0o644;
  const fsGroup = podSpec.securityContext?.fsGroup as number | undefined;
  return fsGroup === undefined ? { uid: 0, gid: 0, mode } : { uid: 0, gid: fsGroup, mode: mode | 0o440 };
}

/** Whether a process of uid and groups may read a file (root with every capability dropped has no DAC override). */
function canRead(uid: number, groups: number[], f: { uid: number; gid: number; mode: number }, capabilities: string[]): boolean {
  if (uid === 0 && capabilities.includes('DAC_OVERRIDE')) return true;
  if (f.uid === uid) return (f.mode & 0o400) !== 0;
  if (groups.includes(f.gid)) return (f.mode & 0o040) !== 0;
  return (f.mode & 0o004) !== 0;
}

/** Every Secret or ConfigMap volume a container mounts that the user it runs as cannot read. */
export function unreadableFiles(objs: Obj[]): string[] {
  const out: string[] = [];
  for (const o of objs) {
    const spec = o.spec?.template?.spec;
    if (!spec?.volumes) continue;
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const sc = { ...(spec.securityContext ?? {}), ...(c.securityContext ?? {}) };
      if (sc.runAsUser === undefined) {
        out.push(`${o.kind}/${o.metadata.name} ${c.name}: no runAsUser, so its files cannot be checked`);
        continue;
      }
      const groups = [
        sc.runAsGroup ?? 0,
        ...(spec.securityContext?.supplementalGroups ?? []),
        ...(spec.securityContext?.fsGroup !== undefined ? [spec.securityContext.fsGroup] : []),
      ];
      const caps: string[] = c.securityContext?.capabilities?.drop?.includes('ALL')
        ? (c.securityContext?.capabilities?.add ?? [])
        : ['DAC_OVERRIDE'];
      for (const m of c.volumeMounts ?? []) {
        const v = spec.volumes.find((x: Json) => x.name === m.name);
        if (!v || !(v.secret || v.configMap)) continue;
        const f = volumeFile(spec, v);
        if (!canRead(sc.runAsUser, groups, f, caps))
          out.push(
            `${o.kind}/${o.metadata.namespace}/${o.metadata.name} ${c.name}: ${m.mountPath} is ${f.uid}:${f.gid} ${f.mode.toString(8)}, unreadable by uid ${sc.runAsUser} (groups ${groups.join(',')})`,
          );
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Ingresses, against the F5 NGINX Ingress Controller (internal/k8s/validation.go, configuration.go)

export interface NicOptions {
  /** The chart version pinned (versions.env). */
  chartVersion: string;
  /** Whether the controller runs with -allow-empty-ingress-host (chart 2.6.0 / NIC 5.5.0 on). */
  allowEmptyHost: boolean;
  ingressClass: string;
}

/** NIC as a cloud's scripts (deployScripts' text) install it: the pinned chart, class nginx, empty hosts if they allow them. */
export const nicOptions = (scripts: string): NicOptions => ({
  chartVersion: pinnedVersions().NGINX_INGRESS_CHART_VERSION!,
  allowEmptyHost: /controller\.allowEmptyIngressHost=true/.test(scripts),
  ingressClass: 'nginx',
});

const versionAtLeast = (v: string, min: string) => {
  const a = v.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};

/** An Ingress rule's paths ('/' where a path leaves it out). */
const rulePaths = (r: Json): string[] => (r.http?.paths ?? []).map((p: Json) => p.path ?? '/');

/** What NIC would refuse or leave unserved among the Ingresses of its class: one line each. */
export function ingressProblems(objs: Obj[], o: NicOptions): string[] {
  const out: string[] = [];
  const hostless = o.allowEmptyHost && versionAtLeast(o.chartVersion, '2.6.0');
  const ingresses = objs.filter((x) => x.kind === 'Ingress' && (x.spec?.ingressClassName ?? o.ingressClass) === o.ingressClass);
  const byHost = new Map<string, { name: string; type?: string; paths: string[] }[]>();
  for (const ing of ingresses) {
    const name = `${ing.metadata.namespace}/${ing.metadata.name}`;
    const type = ing.metadata.annotations?.['nginx.org/mergeable-ingress-type'];
    const rules: Json[] = ing.spec.rules ?? [];
    if (rules.length === 0) out.push(`${name}: spec.rules: Required value`);
    if (type !== undefined && type !== 'master' && type !== 'minion')
      out.push(`${name}: nginx.org/mergeable-ingress-type must be master or minion`);
    const seen = new Set<string>();
    for (const [i, r] of rules.entries()) {
      const host: string = r.host ?? '';
      if (!host && !hostless)
        out.push(
          `${name}: spec.rules[${i}].host: Required value (NIC chart ${o.chartVersion}${versionAtLeast(o.chartVersion, '2.6.0') ? ' without allowEmptyIngressHost' : ''})`,
        );
      if (seen.has(host)) out.push(`${name}: spec.rules[${i}].host: Duplicate value`);
      seen.add(host);
      byHost.set(host, [...(byHost.get(host) ?? []), { name, type, paths: rulePaths(r) }]);
    }
    const paths = rules.flatMap(rulePaths);
    if (type === 'master' && (rules.length !== 1 || paths.length > 0)) out.push(`${name}: a master has exactly one rule and no paths`);
    if (type === 'minion' && (rules.length !== 1 || paths.length === 0 || (ing.spec.tls ?? []).length > 0))
      out.push(`${name}: a minion has exactly one rule, at least one path and no TLS`);
  }
  for (const [host, list] of byHost) {
    const masters = list.filter((l) => l.type === 'master');
    const minions = list.filter((l) => l.type === 'minion');
    const plain = list.filter((l) => l.type === undefined);
    const h = host || '(no host)';
    if (plain.length + masters.length > 1)
      out.push(
        `host ${h}: taken by ${[...plain, ...masters].map((l) => l.name).join(' and ')}: NIC serves it for one of them only ("All hosts are taken by other resources")`,
      );
    if (minions.length > 0 && masters.length === 0)
      out.push(`host ${h}: minions ${minions.map((l) => l.name).join(', ')} have no master: NIC serves none of their paths`);
    if (minions.length > 0 && plain.length > 0) out.push(`host ${h}: minions beside a non-mergeable Ingress`);
    const paths = minions.flatMap((m) => m.paths);
    const dup = paths.filter((p, i) => paths.indexOf(p) !== i);
    if (dup.length) out.push(`host ${h}: path ${dup.join(', ')} in more than one minion`);
  }
  return out;
}

// ---------------------------------------------------------------------------
// HPAs, replicas, PodDisruptionBudgets

const selects = (sel: Json | undefined, labels: Record<string, string>) =>
  !!sel &&
  Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (sel.matchExpressions ?? []).every((e: Json) =>
    e.operator === 'In'
      ? e.values.includes(labels[e.key])
      : e.operator === 'NotIn'
        ? !e.values.includes(labels[e.key])
        : e.operator === 'Exists'
          ? e.key in labels
          : !(e.key in labels),
  );

/** Workloads an HPA scales that still set replicas; PDBs that select nothing or block every eviction. */
export function scalingProblems(objs: Obj[]): string[] {
  const out: string[] = [];
  const workloads = objs.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
  const hpas = objs.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  const hpaOf = (w: Obj) =>
    hpas.find(
      (h) =>
        h.metadata.namespace === w.metadata.namespace &&
        h.spec.scaleTargetRef.kind === w.kind &&
        h.spec.scaleTargetRef.name === w.metadata.name,
    );
  for (const w of workloads) {
    if (hpaOf(w) && w.spec.replicas !== undefined)
      out.push(
        `${w.kind}/${w.metadata.namespace}/${w.metadata.name}: replicas ${w.spec.replicas} beside the HPA that scales it (every apply resets the HPA's count)`,
      );
  }
  const pods = [...workloads, ...objs.filter((o) => o.kind === 'VirtualMachine')].map((w) => ({
    w,
    labels: w.spec.template.metadata?.labels ?? {},
  }));
  for (const pdb of objs.filter((o) => o.kind === 'PodDisruptionBudget')) {
    const name = `PodDisruptionBudget/${pdb.metadata.namespace}/${pdb.metadata.name}`;
    const matched = pods.filter((p) => p.w.metadata.namespace === pdb.metadata.namespace && selects(pdb.spec.selector, p.labels));
    if (matched.length === 0) {
      out.push(`${name}: selects no pod of these manifests`);
      continue;
    }
    const min = typeof pdb.spec.minAvailable === 'number' ? pdb.spec.minAvailable : undefined;
    if (min !== undefined) {
      const floor = matched.reduce(
        (n, p) => n + (p.w.kind === 'VirtualMachine' ? 1 : (hpaOf(p.w)?.spec.minReplicas ?? p.w.spec.replicas ?? 1)),
        0,
      );
      if (floor <= min)
        out.push(`${name}: minAvailable ${min} with as few as ${floor} pods: no eviction is ever allowed, node drains stall`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// A cloud's storage class and nodes

/** Every volume the stores claim (StatefulSet claims, PVCs, Kafka's node pools, RabbitMQ) not on storageClass. */
export function storageProblems(objs: Obj[], storageClass: string): string[] {
  const claims: [string, string | undefined][] = [];
  for (const o of objs) {
    const name = `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
    if (o.kind === 'StatefulSet')
      for (const c of o.spec.volumeClaimTemplates ?? []) claims.push([`${name} ${c.metadata.name}`, c.spec.storageClassName]);
    if (o.kind === 'PersistentVolumeClaim') claims.push([name, o.spec.storageClassName]);
    if (o.kind === 'KafkaNodePool') for (const v of o.spec.storage?.volumes ?? [o.spec.storage]) claims.push([name, v?.class]);
    if (o.kind === 'RabbitmqCluster') claims.push([name, o.spec.persistence?.storageClassName]);
  }
  const out = claims
    .filter(([, c]) => c !== storageClass)
    .map(([n, c]) => `${n}: storage class ${c ?? '(the default)'}, not ${storageClass}`);
  const sc = objs.find((o) => o.kind === 'StorageClass' && o.metadata.name === storageClass);
  if (claims.length && !sc) out.push(`no StorageClass ${storageClass} among the manifests`);
  return out;
}

/** A taint as kubelet's --register-with-taints writes it: key=value:Effect. */
const taintOf = (t: string) => {
  const m = /^([^=:]+)(?:=([^:]*))?:(\w+)$/.exec(t);
  if (!m) throw new Error(`not a taint: ${t}`);
  return { key: m[1]!, value: m[2] ?? '', effect: m[3]! };
};

/** Whether tolerations tolerate a taint (key=value:Effect), as the scheduler matches them. */
function tolerates(tolerations: Json[] | undefined, taint: string): boolean {
  const t = taintOf(taint);
  return (tolerations ?? []).some(
    (x) =>
      (x.key === undefined || x.key === t.key) &&
      (!x.effect || x.effect === t.effect) &&
      (x.operator === 'Exists' || (x.value ?? '') === t.value),
  );
}

/** VirtualMachines (placement: their template) or pod templates that do not select the label (k=v) or tolerate the taint. */
export function placementProblems(specs: { name: string; spec: Json }[], label: string, taint: string): string[] {
  const [k, v] = label.split('=') as [string, string];
  return specs.flatMap(({ name, spec }) => [
    ...(spec.nodeSelector?.[k] === v ? [] : [`${name}: does not select the nodes labelled ${label}`]),
    ...(tolerates(spec.tolerations, taint) ? [] : [`${name}: does not tolerate the taint ${taint}`]),
  ]);
}

// ---------------------------------------------------------------------------
// The deploy scripts: their text, what they make, how they run

/** A cloud's scripts (deploy/<cloud>/*.sh: up.sh, down.sh, what they source) and the shared ones (deploy/common), as one text. */
export function deployScripts(cloud: string): string {
  const scripts = (dir: string) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.sh'))
      .sort()
      .map((f) => join(dir, f));
  const files = [...scripts(join(ROOT, 'deploy', cloud)), ...scripts(join(ROOT, 'deploy', 'common'))];
  return files.map((f) => readFileSync(f, 'utf8')).join('\n');
}

/** Each Secret and ConfigMap the scripts create (`secret:` or `configmap:` NS/NAME), with its keys, read off their apply_* lines. */
export function secretsMadeBy(scripts: string): Map<string, Set<string>> {
  const text = scripts.replace(/\\\n\s*/g, ' ');
  const out = new Map<string, Set<string>>();
  for (const m of text.matchAll(/^\s*apply_secret (\S+) (\S+) (generic|docker-registry)(.*)$/gm)) {
    const keys = m[3] === 'docker-registry' ? ['.dockerconfigjson'] : [...m[4]!.matchAll(/--from-literal=([\w.-]+)=/g)].map((k) => k[1]!);
    out.set(`secret:${m[1]}/${m[2]}`, new Set(keys));
  }
  for (const m of text.matchAll(/^\s*apply_configmap (\S+) (\S+)(.*)$/gm)) {
    const keys = [...m[3]!.matchAll(/--from-literal=([\w.-]+)=/g)].map((k) => k[1]!);
    for (const f of m[3]!.matchAll(/--from-file="?[^" ]*\/([\w.-]+)"?/g)) keys.push(f[1]!);
    out.set(`configmap:${m[1]}/${m[2]}`, new Set(keys));
  }
  return out;
}

/** The versions pinned in deploy/k8s/base/versions.env, by name. */
export function pinnedVersions(): Record<string, string> {
  const lines = readFileSync(join(ROOT, 'deploy', 'k8s', 'base', 'versions.env'), 'utf8').split('\n');
  return Object.fromEntries(lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** Canned answers of a stand-in command: the first whose pattern matches the arguments is printed. */
export type Answers = Record<string, [pattern: RegExp, answer: string][]>;

/**
 * Stand-ins for commands (a cloud's CLIs), in a folder to put first on PATH: each records its arguments, one
 * call a line, and prints the first answer whose pattern matches them (nothing otherwise), exiting 0. An
 * answer may span lines; `calls(name)` lists what that command was called with, in order, and `calls()` every
 * call of them all, in order, each after its command's name.
 */
export function commandStubs(answers: Answers): { dir: string; calls: (name?: string) => string[] } {
  const dir = tempDir('cloud-stubs-');
  for (const [name, list] of Object.entries(answers)) {
    const table = join(dir, `${name}.answers`);
    writeFileSync(table, JSON.stringify(list.map(([p, a]) => [p.source, a])));
    const script = [
      '#!/usr/bin/env bash',
      `printf '%s\\n' "$*" >> '${join(dir, `${name}.log`)}'`,
      `printf '%s %s\\n' '${name}' "$*" >> '${join(dir, 'all.log')}'`,
      `exec node -e 'const [t, args] = process.argv.slice(1); for (const [p, a] of JSON.parse(require("fs").readFileSync(t, "utf8"))) if (new RegExp(p).test(args)) { if (a) console.log(a); break; }' '${table}' "$*"`,
      '',
    ].join('\n');
    writeFileSync(join(dir, name), script);
    chmodSync(join(dir, name), 0o755);
  }
  const calls = (name?: string) => {
    const f = join(dir, name ? `${name}.log` : 'all.log');
    return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : [];
  };
  return { dir, calls };
}

/** The first of steps that is not in text after the one before it (undefined: every step, in order). */
export function missingInOrder(text: string, steps: string[]): string | undefined {
  let at = 0;
  for (const s of steps) {
    const i = text.indexOf(s, at);
    if (i < 0) return s;
    at = i + s.length;
  }
  return undefined;
}
