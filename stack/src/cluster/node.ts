/**
 * The node's processes, for the stack's supervisor (started, probed, restarted and stopped by PID like a
 * stack's): etcd, the API server, controller manager and scheduler; the node's agents (containerd and the
 * kubelet, in a private mount namespace: deploy/cluster/node/node.sh); kube-proxy (nftables); kube-router,
 * which enforces NetworkPolicies (iptables and ipsets, on pod addresses only); and the entry, which
 * forwards the entry URL on loopback to the ingress Service. Their configs are deploy/cluster/node's
 * templates, filled in.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBinaries, MODULES } from '../binaries.js';
import type { Component } from '../components.js';
import { ROOT } from '../layout.js';
import { renderConf } from '../conf.js';
import { CLUSTER_PORTS } from '../ports.js';
import { httpReady, httpsReady, succeeds, tcpOpen } from '../probes.js';
import { NODE, STATE } from './plan.js';

const P = CLUSTER_PORTS;
const CONFIGS = join(ROOT, 'deploy', 'cluster', 'node');
const pki = (f: string) => join(STATE, 'pki', f);

/** Every binary the node runs, built where missing (`npm run cluster` builds them before it starts anything). */
export function nodeBinaries(say: (m: string) => void = () => {}) {
  return {
    ...ensureBinaries(
      'kubernetes',
      ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubelet', 'kube-proxy', 'kubectl'],
      say,
    ),
    ...ensureBinaries('etcd', ['etcd'], say),
    ...ensureBinaries('containerd', ['containerd', 'containerd-shim-runc-v2', 'ctr'], say),
    ...ensureBinaries('kube-router', ['kube-router'], say),
  } as Record<string, string>;
}

/** The CNI plugins' folder (the bridge, host-local, loopback, portmap), built where missing. */
export const cniDir = (say: (m: string) => void = () => {}) =>
  join(Object.values(ensureBinaries('cni', Object.keys(MODULES.cni.binaries) as never[], say))[0]!, '..');

const render = (file: string, vars: Record<string, string | number>) => renderConf(file, vars, CONFIGS);

/** The configs of containerd, the kubelet, kube-proxy and the pod network, written into the node's folder; `pause`: the sandbox image. */
export function writeNodeConfigs(pause: string): void {
  const vars = {
    STATE,
    NODE_NAME: NODE.name,
    NODE_IP: NODE.ip,
    BRIDGE: NODE.bridge,
    POD_CIDR: NODE.podCidr,
    SERVICE_CIDR: NODE.serviceCidr,
    DNS_IP: NODE.dnsIp,
    PAUSE_IMAGE: pause,
    RUNC: '/usr/sbin/runc',
    KUBELET_PORT: P.kubelet,
    KUBELET_HEALTHZ_PORT: P.kubeletHealthz,
    KUBE_PROXY_HEALTHZ_PORT: P.kubeProxyHealthz,
    KUBE_PROXY_METRICS_PORT: P.kubeProxyMetrics,
  };
  mkdirSync(join(STATE, 'cni', 'net.d'), { recursive: true });
  writeFileSync(join(STATE, 'containerd.toml'), render('containerd.toml', vars));
  writeFileSync(join(STATE, 'kubelet.yaml'), render('kubelet.yaml', vars));
  writeFileSync(join(STATE, 'kube-proxy.yaml'), render('kube-proxy.yaml', vars));
  writeFileSync(join(STATE, 'cni', 'net.d', '10-knode.conflist'), render('cni.conflist', vars));
  // the pods' resolver, for pods that use the node's (CoreDNS): no upstream is reachable, so none
  writeFileSync(join(STATE, 'resolv.conf'), 'options ndots:1\n');
}

const tool = (name: string, command: string, args: string[], ready: () => Promise<boolean>, extra: Partial<Component> = {}): Component => ({
  name,
  kind: 'tool',
  command: 'nice',
  args: ['-n', '10', command, ...args],
  env: {},
  ready,
  readyTimeoutMs: 180_000,
  stopTimeoutMs: 30_000,
  ...extra,
});

/** The node's processes in start order (each ready before the next). */
export function nodeProcesses(): Component[] {
  const b = nodeBinaries();
  return [etcd(b), apiServer(b), controllerManager(b), scheduler(b), agents(b), kubeProxy(b), kubeRouter(b), entry()];
}

type Binaries = Record<string, string>;
const kubeconfig = (n: string) => join(STATE, `${n}.kubeconfig`);

/** The cluster's store, on loopback. */
function etcd(b: Binaries): Component {
  return tool(
    'etcd',
    b.etcd!,
    [
      `--name=${NODE.name}`,
      `--data-dir=${join(STATE, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${P.etcd}`,
      `--advertise-client-urls=http://127.0.0.1:${P.etcd}`,
      `--listen-peer-urls=http://127.0.0.1:${P.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${P.etcdPeer}`,
      `--initial-cluster=${NODE.name}=http://127.0.0.1:${P.etcdPeer}`,
      '--log-level=warn',
    ],
    () => httpReady(`http://127.0.0.1:${P.etcd}/health`),
  );
}

/** The API server, on the node's address (pods reach it there); the aggregation layer for metrics-server. */
function apiServer(b: Binaries): Component {
  const ca = existsSync(pki('ca.crt')) ? readFileSync(pki('ca.crt')) : undefined;
  return tool(
    'kube-apiserver',
    b['kube-apiserver']!,
    [
      `--etcd-servers=http://127.0.0.1:${P.etcd}`,
      `--bind-address=${NODE.ip}`,
      `--advertise-address=${NODE.ip}`,
      `--secure-port=${P.apiserver}`,
      `--service-cluster-ip-range=${NODE.serviceCidr}`,
      '--service-node-port-range=30000-30100',
      `--tls-cert-file=${pki('apiserver.crt')}`,
      `--tls-private-key-file=${pki('apiserver.key')}`,
      `--client-ca-file=${pki('ca.crt')}`,
      `--service-account-key-file=${pki('sa.pub')}`,
      `--service-account-signing-key-file=${pki('sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      `--kubelet-client-certificate=${pki('apiserver-kubelet-client.crt')}`,
      `--kubelet-client-key=${pki('apiserver-kubelet-client.key')}`,
      '--kubelet-preferred-address-types=InternalIP',
      // the aggregation layer, through which metrics-server serves metrics.k8s.io
      `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${pki('front-proxy-client.crt')}`,
      `--proxy-client-key-file=${pki('front-proxy-client.key')}`,
      '--enable-aggregator-routing=true',
      '--profiling=false',
      `--cert-dir=${join(STATE, 'apiserver-certs')}`,
    ],
    () => httpsReady(`https://${NODE.ip}:${P.apiserver}/readyz`, ca),
  );
}

/** A control-plane process's own flags: its kubeconfig (for itself, authentication and authorization), its port on loopback, no leader election. */
const controlPlane = (name: string, port: number) => [
  `--kubeconfig=${kubeconfig(name)}`,
  `--authentication-kubeconfig=${kubeconfig(name)}`,
  `--authorization-kubeconfig=${kubeconfig(name)}`,
  '--bind-address=127.0.0.1',
  `--secure-port=${port}`,
  '--leader-elect=false',
];

/** The controllers, the HPA's among them, every 15 s as in a managed cluster. */
function controllerManager(b: Binaries): Component {
  return tool(
    'kube-controller-manager',
    b['kube-controller-manager']!,
    [
      ...controlPlane('controller-manager', P.controllerManager),
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${pki('sa.key')}`,
      `--root-ca-file=${pki('ca.crt')}`,
      `--cluster-signing-cert-file=${pki('ca.crt')}`,
      `--cluster-signing-key-file=${pki('ca.key')}`,
      `--service-cluster-ip-range=${NODE.serviceCidr}`,
      `--cluster-cidr=${NODE.podCidr}`,
      '--allocate-node-cidrs=false',
      `--requestheader-client-ca-file=${pki('front-proxy-ca.crt')}`,
      // the HPA's loop: every 15 s, as in a managed cluster
      '--horizontal-pod-autoscaler-sync-period=15s',
    ],
    () => httpsReady(`https://127.0.0.1:${P.controllerManager}/healthz`),
  );
}

/** The scheduler. */
function scheduler(b: Binaries): Component {
  return tool('kube-scheduler', b['kube-scheduler']!, [...controlPlane('scheduler', P.scheduler)], () =>
    httpsReady(`https://127.0.0.1:${P.scheduler}/healthz`),
  );
}

/** containerd and the kubelet, in a private mount namespace (deploy/cluster/node/node.sh). */
function agents(b: Binaries): Component {
  return {
    ...tool(
      'node',
      '/usr/bin/unshare',
      [
        '--mount',
        '--propagation',
        'private',
        join(CONFIGS, 'node.sh'),
        STATE,
        join(b.containerd!, '..'),
        b.kubelet!,
        `--config=${join(STATE, 'kubelet.yaml')}`,
        `--kubeconfig=${kubeconfig('kubelet')}`,
        `--root-dir=${join(STATE, 'kubelet')}`,
        `--cert-dir=${join(STATE, 'kubelet-pki')}`,
        `--hostname-override=${NODE.name}`,
        `--node-ip=${NODE.ip}`,
      ],
      () => httpReady(`http://127.0.0.1:${P.kubeletHealthz}/healthz`),
    ),
    // the shims and runc containerd starts are found on the PATH
    env: { PATH: `${join(b.containerd!, '..')}:/usr/sbin:/usr/bin:/sbin:/bin` },
    stopTimeoutMs: 60_000,
  };
}

/** kube-proxy, nftables mode (its config: deploy/cluster/node/kube-proxy.yaml). */
function kubeProxy(b: Binaries): Component {
  return tool('kube-proxy', b['kube-proxy']!, [`--config=${join(STATE, 'kube-proxy.yaml')}`], () =>
    httpReady(`http://127.0.0.1:${P.kubeProxyHealthz}/healthz`),
  );
}

/** kube-router, for NetworkPolicies only (iptables and ipsets on pod addresses). */
function kubeRouter(b: Binaries): Component {
  return tool(
    'kube-router',
    b['kube-router']!,
    [
      '--run-firewall=true',
      '--run-router=false',
      '--run-service-proxy=false',
      '--enable-cni=false',
      `--kubeconfig=${kubeconfig('admin')}`,
      `--hostname-override=${NODE.name}`,
      `--service-cluster-ip-range=${NODE.serviceCidr}`,
      '--health-port=0',
      '--metrics-port=0',
      '--iptables-sync-period=1m',
    ],
    () => succeeds('iptables', ['-S', 'KUBE-ROUTER-FORWARD']),
  );
}

/** The entry: the entry URL on loopback, forwarded to the ingress Service. */
function entry(): Component {
  return {
    ...tool(
      'entry',
      process.execPath,
      [join(ROOT, 'stack', 'dist', 'src', 'cluster', 'entry.js'), `127.0.0.1:${P.entry}`, `${NODE.ingressIp}:80`],
      () => tcpOpen(P.entry),
    ),
    stopTimeoutMs: 5_000,
  };
}
