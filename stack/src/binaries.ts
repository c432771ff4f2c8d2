/**
 * The Kubernetes binaries the project builds from the Go module proxy (no release download is reachable
 * here): the control plane, node agents and add-ons of the Kubernetes node of `npm run cluster`, and the API
 * server and etcd of the manifests' validation. Each comes from a wrapper module under deploy/k8s/tools
 * whose go.mod pins the release (and go.sum its bytes); the binaries of a module go to
 * .tools/bin/<module>-<hash of go.mod and go.sum>/, so a new pin builds anew and an old one stays cached.
 * Builds run at the lowest CPU priority; the first takes minutes, later ones are Go's build cache.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join, relative } from 'node:path';
import { goBinary } from './gotools.js';
import { ROOT } from './layout.js';

export const TOOLS_DIR = join(ROOT, 'deploy', 'k8s', 'tools');

interface Module {
  /** The module's folder under deploy/k8s/tools ('' for the Kubernetes one). */
  dir: string;
  /** Each binary it builds, by the package it is built from. */
  binaries: Record<string, string>;
  tags?: string;
}

const K8S = 'k8s.io/kubernetes/cmd';

export const MODULES = {
  kubernetes: {
    dir: '',
    binaries: {
      'kube-apiserver': `${K8S}/kube-apiserver`,
      'kube-controller-manager': `${K8S}/kube-controller-manager`,
      'kube-scheduler': `${K8S}/kube-scheduler`,
      kubelet: `${K8S}/kubelet`,
      'kube-proxy': `${K8S}/kube-proxy`,
      kubectl: `${K8S}/kubectl`,
    },
  },
  etcd: { dir: 'etcd', binaries: { etcd: 'go.etcd.io/etcd/server/v3' } },
  containerd: {
    dir: 'containerd',
    tags: 'no_btrfs',
    binaries: {
      containerd: 'github.com/containerd/containerd/v2/cmd/containerd',
      'containerd-shim-runc-v2': 'github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2',
      ctr: 'github.com/containerd/containerd/v2/cmd/ctr',
    },
  },
  cni: {
    dir: 'cni',
    binaries: {
      bridge: 'github.com/containernetworking/plugins/plugins/main/bridge',
      loopback: 'github.com/containernetworking/plugins/plugins/main/loopback',
      'host-local': 'github.com/containernetworking/plugins/plugins/ipam/host-local',
      portmap: 'github.com/containernetworking/plugins/plugins/meta/portmap',
    },
  },
  coredns: { dir: 'coredns', binaries: { coredns: 'github.com/coredns/coredns' } },
  'metrics-server': { dir: 'metrics-server', binaries: { 'metrics-server': 'sigs.k8s.io/metrics-server/cmd/metrics-server' } },
  'kube-router': { dir: 'kube-router', binaries: { 'kube-router': 'github.com/cloudnativelabs/kube-router/v2/cmd/kube-router' } },
  pause: { dir: 'pause', binaries: { pause: 'tweets.local/k8s-tools/pause' } },
} as const satisfies Record<string, Module>;

export type ModuleName = keyof typeof MODULES;

const moduleDir = (m: ModuleName) => join(TOOLS_DIR, MODULES[m].dir);

/** The release a module pins: the version of the one module its go.mod requires directly (pause: none). */
export function pinnedVersion(m: ModuleName): string | undefined {
  return /^require (\S+) (v\S+)$/m.exec(readFileSync(join(moduleDir(m), 'go.mod'), 'utf8'))?.[2];
}

/** Where a module's binaries go: named by its go.mod and go.sum, so a new pin is a new folder. */
export function binDir(m: ModuleName): string {
  const h = createHash('sha256');
  for (const f of ['go.mod', 'go.sum']) if (existsSync(join(moduleDir(m), f))) h.update(readFileSync(join(moduleDir(m), f)));
  return join(ROOT, '.tools', 'bin', `${m}-${h.digest('hex').slice(0, 12)}`);
}

/** Kubernetes' binaries report their version only when told it at link time. */
function ldflags(m: ModuleName): string {
  const v = pinnedVersion('kubernetes')!;
  if (m !== 'kubernetes') return '-s -w';
  const [major, minor] = v.slice(1).split('.');
  return `-s -w ${Object.entries({ gitVersion: v, gitMajor: major, gitMinor: minor, gitTreeState: 'clean' })
    .map(([k, x]) => `-X k8s.io/component-base/version.${k}=${x}`)
    .join(' ')}`;
}

/**
 * The path of each named binary of a module, built first where missing (all of them in one `go build`).
 * Statically linked, for the scratch images some of them run in.
 */
export function ensureBinaries<M extends ModuleName>(
  m: M,
  names: (keyof (typeof MODULES)[M]['binaries'] & string)[],
  log: (msg: string) => void,
): Record<string, string> {
  const mod: Module = MODULES[m];
  const dir = binDir(m);
  const missing = names.filter((n) => !existsSync(join(dir, n)));
  if (missing.length > 0) {
    const t0 = Date.now();
    log(
      `building ${missing.join(', ')} (module ${relative(ROOT, moduleDir(m)) || 'deploy/k8s/tools'}) into ${relative(ROOT, dir)}; the first time takes minutes`,
    );
    const tmp = `${dir}.tmp`;
    mkdirSync(tmp, { recursive: true });
    // one package: `-o` names the file (go would name etcd's after its module's last element, `v3`)
    const out = missing.length === 1 ? join(tmp, missing[0]!) : `${tmp}/`;
    execFileSync(
      'nice',
      [
        '-n',
        '19',
        goBinary(),
        'build',
        '-trimpath',
        '-ldflags',
        ldflags(m),
        ...(mod.tags ? ['-tags', mod.tags] : []),
        '-o',
        out,
        ...missing.map((n) => mod.binaries[n]!),
      ],
      {
        cwd: moduleDir(m),
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, GOFLAGS: '-mod=readonly', CGO_ENABLED: '0' },
      },
    );
    mkdirSync(dir, { recursive: true });
    for (const n of missing) renameSync(join(tmp, n), join(dir, n));
    log(`built ${missing.join(', ')} in ${Math.round((Date.now() - t0) / 1000)} s`);
  }
  return Object.fromEntries(names.map((n) => [n, join(dir, n)]));
}
