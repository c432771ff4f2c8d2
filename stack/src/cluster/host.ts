/**
 * What the node changes on the machine, made before it starts and undone after it stops: the pods' bridge
 * (with the node's address, forwarding on it alone), the mount points its agents insist on, and what its
 * agents leave behind (kube-proxy's nftables tables, the kubelet's iptables chains, kube-router's chains
 * and ipsets, the pods' cgroups, containerd's shims). `snapshot()` records all of it, so a test can show
 * the machine is as it was.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NODE, STATE } from './plan.js';

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
const ok = (cmd: string, args: string[]) => run(cmd, args).status === 0;

/** The host paths containerd, the CNI plugins and the kubelet write to; the node's namespace binds private folders over them. */
const MOUNT_POINTS = ['/run/containerd', '/var/lib/cni', '/var/log/containers'];
const CREATED = join(STATE, 'created-dirs');

/** The bridge with the node's address, up, forwarding on it alone (the machine's ip_forward stays as it is). */
/** Whether the node's bridge exists: a node runs on this machine, or a failed one left it. */
export const bridgeUp = (): boolean => ok('ip', ['link', 'show', NODE.bridge]);

export function setUpHost(): void {
  if (!ok('ip', ['link', 'show', NODE.bridge])) execFileSync('ip', ['link', 'add', NODE.bridge, 'type', 'bridge']);
  if (!run('ip', ['-o', 'addr', 'show', 'dev', NODE.bridge]).stdout.includes(`${NODE.ip}/`))
    execFileSync('ip', ['addr', 'add', `${NODE.ip}/24`, 'dev', NODE.bridge]);
  execFileSync('ip', ['link', 'set', NODE.bridge, 'up']);
  execFileSync('sysctl', ['-qw', `net.ipv4.conf.${NODE.bridge}.forwarding=1`]);
  mkdirSync(STATE, { recursive: true });
  for (const p of MOUNT_POINTS) {
    if (existsSync(p)) continue;
    mkdirSync(p, { recursive: true });
    appendFileSync(CREATED, `${p}\n`);
  }
}

/** The kubelet's iptables chains, each table's. */
const KUBELET_CHAINS: [string, string][] = [
  ['filter', 'KUBE-FIREWALL'],
  ['mangle', 'KUBE-IPTABLES-HINT'],
  ['mangle', 'KUBE-KUBELET-CANARY'],
  ['nat', 'KUBE-KUBELET-CANARY'],
  ['filter', 'KUBE-KUBELET-CANARY'],
];

/**
 * kube-router's iptables chains (KUBE-ROUTER-*, per policy KUBE-NWPLCY-*, per pod KUBE-POD-FW-*), the jumps
 * to them from the built-in chains, then its ipsets (KUBE-SRC-*, KUBE-DST-*, ...). Its own
 * `--cleanup-config` (v2.1.0) crashes in its service proxy's cleanup, which this node does not run.
 */
function removeKubeRouterRules(): void {
  const ours = /^KUBE-(ROUTER|NWPLCY|POD-FW)/;
  for (const ipt of ['iptables', 'ip6tables']) {
    for (const chain of ['INPUT', 'FORWARD', 'OUTPUT']) {
      for (const rule of run(ipt, ['-S', chain])
        .stdout.split('\n')
        .filter((r) => / -j KUBE-ROUTER-/.test(r))) {
        spawnSync(ipt, ['-D', ...splitRule(rule.replace(/^-A /, ''))]);
      }
    }
    const chains = run(ipt, ['-S'])
      .stdout.split('\n')
      .filter((l) => l.startsWith('-N '))
      .map((l) => l.slice(3))
      .filter((c) => ours.test(c));
    for (const c of chains) run(ipt, ['-F', c]);
    for (const c of chains) run(ipt, ['-X', c]);
  }
  for (const set of run('ipset', ['list', '-n'])
    .stdout.split('\n')
    .filter((n) => /^(KUBE-|inet6:KUBE-)/.test(n)))
    run('ipset', ['destroy', set]);
}

/** An `iptables -S` rule as arguments (its comment is quoted, and may hold spaces). */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** Everything the node left: run once its processes are stopped. `before`: the snapshot before `up`, whose tables stay. */
export function tearDownHost(log: (m: string) => void, before?: Record<string, string[]>): void {
  // shims of containers that outlived containerd (they are meant to survive its restarts)
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const cmd = (() => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (cmd.includes('containerd-shim-runc-v2') && cmd.includes(STATE)) process.kill(Number(pid), 'SIGKILL');
  }
  removeKubeRouterRules();
  for (const t of ['ip kube-proxy', 'ip6 kube-proxy', 'ip cni_hostport', 'inet cni_hostport'])
    if (ok('nft', ['list', 'table', ...t.split(' ')])) execFileSync('nft', ['delete', 'table', ...t.split(' ')]);
  for (const ipt of ['iptables', 'ip6tables']) {
    for (const chain of ['INPUT', 'OUTPUT']) while (ok(ipt, ['-D', chain, '-j', 'KUBE-FIREWALL']));
    for (const [table, chain] of KUBELET_CHAINS) {
      run(ipt, ['-t', table, '-F', chain]);
      run(ipt, ['-t', table, '-X', chain]);
    }
  }
  // the tables iptables (its nftables flavour) made for the rules above, empty now, unless they were there before
  for (const t of run('nft', ['list', 'tables']).stdout.split('\n').filter(Boolean)) {
    if (before?.nftTables?.includes(t)) continue;
    const [, family, name] = t.split(' ');
    if (emptyTable(family!, name!)) run('nft', ['delete', 'table', family!, name!]);
  }
  if (ok('ip', ['link', 'show', NODE.bridge])) execFileSync('ip', ['link', 'del', NODE.bridge]);
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) removeCgroups(join('/sys/fs/cgroup', hierarchy, 'kubepods'));
  if (existsSync(CREATED)) {
    for (const d of readFileSync(CREATED, 'utf8').split('\n').filter(Boolean)) if (existsSync(d)) rmdirSync(d);
    rmSync(CREATED);
  }
  log('removed what the node made: its bridge, tables, chains, ipsets, cgroups and mount points');
}

/** Whether an nftables table holds nothing but base chains: no rule, set or chain of anyone's. */
function emptyTable(family: string, name: string): boolean {
  const items = (
    JSON.parse(run('nft', ['-j', 'list', 'table', family, name]).stdout || '{"nftables":[]}') as {
      nftables: Record<string, { hook?: string }>[];
    }
  ).nftables;
  return items.every((i) => 'metainfo' in i || 'table' in i || ('chain' in i && i.chain!.hook !== undefined));
}

/** A cgroup folder and those under it, deepest first (a cgroup goes once it holds no process). */
function removeCgroups(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroups(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {
    // a process still in it: reported by the snapshot
  }
}

/** What the node could leave on the machine, each as sorted lines: equal before `up` and after `down`. */
export function snapshot(): Record<string, string[]> {
  const lines = (text: string) =>
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .sort();
  // iptables-save with its counters and dated comments out: what is left is the rules
  const rules = (cmd: string) =>
    lines(
      run(cmd, [])
        .stdout.replace(/\[\d+:\d+\]/g, '')
        .replace(/^#.*$/gm, ''),
    );
  return {
    links: lines(
      run('ip', ['-o', 'link', 'show'])
        .stdout.replace(/^\d+: /gm, '')
        .replace(/ .*$/gm, ''),
    ),
    nftTables: lines(run('nft', ['list', 'tables']).stdout),
    iptables: rules('iptables-save'),
    ip6tables: rules('ip6tables-save'),
    ipsets: lines(run('ipset', ['list', '-n']).stdout),
    cgroups: readdirSync('/sys/fs/cgroup').filter((h) => existsSync(join('/sys/fs/cgroup', h, 'kubepods'))),
    mounts: lines(readFileSync('/proc/self/mountinfo', 'utf8')).filter(
      (m) => m.includes(STATE) || MOUNT_POINTS.some((p) => m.includes(` ${p} `)),
    ),
    mountPoints: MOUNT_POINTS.filter((p) => existsSync(p)),
    processes: readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!;
        } catch {
          return '';
        }
      })
      .filter((c) => c.includes('/.tools/bin/') || c.includes(STATE))
      .sort(),
  };
}
