/**
 * Debian roots the local stack runs some servers from: where Debian bookworm (this machine's system) has
 * an older line than production runs, the stack runs the newer Debian suite's package from a root of that
 * suite, made once with debootstrap into .tools/roots (gitignored):
 *
 * - trixie: Valkey 8.1 (Debian's build carries the 2025 Lua fixes; bookworm-backports has 8.0.1 without);
 * - forky: RabbitMQ 4.3 with its Erlang, and Prometheus 3.5 (bookworm has RabbitMQ 3.10 and Prometheus 2.42).
 *
 * A server runs from its root in a private mount namespace (`unshare --mount`), chrooted, with the
 * project's data folder bound at the same path inside (so every path in its config is the same inside and
 * out): the namespace and its mounts go with the process. The PID is the server's own (each step
 * execs the next), so the supervisor stops, kills and restarts it as any other process. The host's
 * network is shared: it listens on loopback as before.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from './layout.js';

export interface DebianRoot {
  suite: 'trixie' | 'forky';
  packages: readonly string[];
}

export const ROOTS = {
  trixie: { suite: 'trixie', packages: ['valkey-server'] },
  forky: { suite: 'forky', packages: ['rabbitmq-server', 'prometheus'] },
} as const satisfies Record<string, DebianRoot>;

export type RootName = keyof typeof ROOTS;

const MIRROR = 'http://deb.debian.org/debian';
/** forky is Debian's testing: the archive reachable here may serve its Release file past its Valid-Until date. */
const APT_OPTIONS = ['-o', 'Acquire::Check-Valid-Until=false', '-o', 'Dpkg::Use-Pty=0'];

/** The root's folder: named by its suite and packages, so a change of either makes a new one. */
export function rootDir(name: RootName): string {
  const r = ROOTS[name];
  const key = createHash('sha256').update(JSON.stringify(r)).digest('hex').slice(0, 8);
  return join(ROOT, '.tools', 'roots', `${r.suite}-${key}`);
}

const MARKER = '.tweets-root';

export const rootReady = (name: RootName) => existsSync(join(rootDir(name), MARKER));

/**
 * Makes the root if it is not there (as root: debootstrap, then apt inside it), a few minutes once:
 * a minimal system of the suite, then its packages with apt, their services never started.
 */
export function ensureRoot(name: RootName, log: (m: string) => void): string {
  const dir = rootDir(name);
  if (rootReady(name)) return dir;
  const r = ROOTS[name];
  const t0 = Date.now();
  log(`making a Debian ${r.suite} root with ${r.packages.join(', ')} in ${dir} (debootstrap, then apt; minutes, once)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  // debootstrap runs chroot and friends from the sbin folders, which a non-login PATH may lack.
  const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env });
  run('nice', ['-n', '10', '/usr/sbin/debootstrap', '--variant=minbase', r.suite, dir, MIRROR]);
  // Packages install without starting anything; names resolve as on the host.
  writeFileSync(join(dir, 'usr', 'sbin', 'policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  writeFileSync(join(dir, 'etc', 'hosts'), '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n');
  run('chroot', [dir, 'apt-get', ...APT_OPTIONS, 'update', '-qq']);
  run('chroot', [dir, 'apt-get', ...APT_OPTIONS, 'install', '-y', '-qq', '--no-install-recommends', ...r.packages]);
  run('chroot', [dir, 'apt-get', 'clean']);
  writeFileSync(join(dir, MARKER), `${JSON.stringify(r)}\n`);
  mkdirSync(join(dir, DATA_DIR), { recursive: true });
  log(`root ${r.suite} ready in ${Math.round((Date.now() - t0) / 1000)} s`);
  return dir;
}

/** A package's version in a root, as dpkg has it (e.g. 4.3.6-1). */
export function packageVersion(name: RootName, pkg: string): string {
  const status = readFileSync(join(rootDir(name), 'var', 'lib', 'dpkg', 'status'), 'utf8');
  const m = new RegExp(`^Package: ${pkg}\\n(?:[^\\n]+\\n)*?Version: (\\S+)`, 'm').exec(status);
  if (!m) throw new Error(`${pkg} is not installed in the ${ROOTS[name].suite} root`);
  return m[1]!;
}

/** What a server run from a root sees of the host: the project's data folder (.data), at the same path. */
export const DATA_DIR = join(ROOT, '.data');

/**
 * The command line that runs `command args` from a root: a private mount namespace, the project's data
 * folder bound at the same path inside, the host's /proc bound, then chroot. Every step execs the next.
 */
export function inRoot(name: RootName, command: string, args: readonly string[]): { command: string; args: string[] } {
  const script = [
    'set -e',
    'root=$1; data=$2; shift 2',
    '[ -d "$root$data" ] || mkdir -p "$root$data"',
    'mount --bind "$data" "$root$data"',
    'mount --rbind /proc "$root/proc"',
    'exec chroot "$root" "$@"',
  ].join('\n');
  // As another user than root, a user namespace of its own maps it to root inside: mounts and chroot are
  // then allowed, and what it writes in the data folder is still that user's. The mount point is made by
  // `npm run provision` (as root), so such a user needs no right on the root itself.
  const user = process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'];
  return {
    command: '/usr/bin/unshare',
    args: [...user, '--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'sh', rootDir(name), DATA_DIR, command, ...args],
  };
}

/** valkey-server with these arguments, from the trixie root: the stack's Valkey, for throwaway servers of single benchmarks. */
export const valkeyServer = (args: readonly string[]) => inRoot('trixie', '/usr/bin/valkey-server', args);

/** A new empty folder for a throwaway server: in the data folder, which a server run from a root sees. */
export function scratchDir(prefix: string): string {
  mkdirSync(join(DATA_DIR, 'tmp'), { recursive: true });
  return mkdtempSync(join(DATA_DIR, 'tmp', prefix));
}

const temps: string[] = [];

/** A new empty folder in the system's temporary folder, removed with what it holds when this process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (temps.push(dir) === 1) process.on('exit', () => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
  return dir;
}
