/**
 * `npm run images [-- --push] [--base IMAGE]`: builds one OCI image per
 * service with Podman from services/<service>/Containerfile, tags it with the
 * commit, prints each image's size and build time, and with --push pushes
 * every image to the local OCI registry (stack/src/registry.ts) and checks
 * that the digest the registry serves is the one pushed.
 *
 * The engine is Podman or Docker, whichever is on the PATH (CONTAINER_ENGINE
 * picks one). The Containerfiles take the Node.js base as NODE_IMAGE. Its
 * default is the public node:26-trixie-slim, pulled for the platform built
 * (--platform, e.g. linux/amd64 for GKE's nodes from an arm64 laptop); only
 * where it cannot be pulled (public registries are out of reach on this
 * project's own machine) a local base is built instead: a minimal Debian
 * trixie from Debian's packages (debootstrap, as root) with the project's
 * pinned Node.js and npm, imported into Podman. Same Containerfiles.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { which } from './gotools.js';
import { ROOT } from './layout.js';

/** The container engine: CONTAINER_ENGINE, or podman, or docker, from the PATH. */
export function engine(): { name: 'podman' | 'docker'; path: string } | undefined {
  const wanted = process.env.CONTAINER_ENGINE;
  for (const name of wanted ? [wanted] : ['podman', 'docker']) {
    const path = which(name);
    if (path && (name === 'podman' || name === 'docker')) return { name, path };
  }
  return undefined;
}
/**
 * Podman's OCI runtime: PODMAN_RUNTIME if set (empty: Podman's default), else runc where it is installed
 * (crun fails on this project's machine's cgroups; runc works), else Podman's default.
 */
function runtimeArgs(name: string): string[] {
  if (name !== 'podman') return [];
  const runc = process.env.PODMAN_RUNTIME ?? which('runc') ?? (existsSync('/usr/sbin/runc') ? '/usr/sbin/runc' : '');
  return runc ? ['--runtime', runc] : [];
}
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
export const PUBLIC_BASE = 'docker.io/library/node:26.12.1-trixie-slim';
export const IMAGE_REPO = 'localhost/tweets';

export class ImagesError extends Error {}

const INSTALL =
  'Podman (https://podman.io/docs/installation) or Docker; on Debian: apt-get install -y podman buildah runc (or: npm run provision -- --images, as root)';
const DEBOOTSTRAP = 'apt-get install -y -t bookworm-backports debootstrap, as root';

/** The container engine (Podman, with the runtime that works here, or Docker); stdout as text. */
export function podman(args: string[], opts: { input?: Buffer | string; inherit?: boolean; timeoutMs?: number } = {}): string {
  const e = engine();
  if (!e) throw new ImagesError(`neither podman nor docker is on the PATH. Install one: ${INSTALL}`);
  const r = spawnSync(e.path, [...runtimeArgs(e.name), ...args], {
    input: opts.input,
    encoding: 'utf8',
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', opts.inherit ? 'inherit' : 'pipe', opts.inherit ? 'inherit' : 'pipe'],
    maxBuffer: 64 << 20,
    timeout: opts.timeoutMs,
  });
  if (r.status !== 0)
    throw new ImagesError(
      `${e.name} ${args.slice(0, 2).join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr ?? '').trim().slice(-2000)}`,
    );
  return (r.stdout ?? '').trim();
}

export const imageExists = (ref: string) => {
  const e = engine();
  return (
    !!e && spawnSync(e.path, e.name === 'podman' ? ['image', 'exists', ref] : ['image', 'inspect', ref], { stdio: 'ignore' }).status === 0
  );
};

/** The services that have a Containerfile, each with the port it exposes. */
export function imageServices(): { name: string; port: number }[] {
  return readdirSync(join(ROOT, 'services'))
    .filter((s) => existsSync(join(ROOT, 'services', s, 'Containerfile')))
    .sort()
    .map((name) => {
      const m = /^EXPOSE (\d+)/m.exec(readFileSync(join(ROOT, 'services', name, 'Containerfile'), 'utf8'));
      return { name, port: Number(m?.[1] ?? 0) };
    });
}

/** The commit the images are built from, `-dirty` when the work tree has uncommitted changes. */
export function imageTag(): string {
  const git = (...a: string[]) => execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') ? '-dirty' : ''}`;
  } catch {
    return 'unknown';
  }
}

export const imageRef = (service: string, tag = imageTag()) => `${IMAGE_REPO}/${service}:${tag}`;

const pinnedNode = () => readFileSync(join(ROOT, '.node-version'), 'utf8').trim();

/**
 * A local Node.js base like node:<version>-trixie-slim: a minimal Debian
 * trixie (debootstrap, Debian's own packages) with the pinned Node.js binary
 * (the one the project runs on) in /usr/local/bin and the npm that runs this,
 * imported with `podman import`. Built once; the root file system is kept in
 * .data/images so a rebuild of the base is an import.
 */
/** Debian packages the base adds to debootstrap's minimal system: what the Node.js binary links (libatomic, libstdc++) and TLS roots. */
const BASE_PACKAGES = ['ca-certificates', 'libatomic1', 'libstdc++6'];

export function localBase(log: (m: string) => void): string {
  const version = pinnedNode();
  const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim();
  // The tag names the recipe, so a change of it (Node.js, npm, packages) builds a new base.
  const recipe = createHash('sha256')
    .update(JSON.stringify([version, npmVersion, BASE_PACKAGES]))
    .digest('hex')
    .slice(0, 8);
  const ref = `${IMAGE_REPO}/node-base:${version}-trixie-${recipe}`;
  if (imageExists(ref)) return ref;
  if (!existsSync('/usr/sbin/debootstrap'))
    throw new ImagesError(`${PUBLIC_BASE} could not be pulled, and the local base needs debootstrap: ${DEBOOTSTRAP}`);
  const node = process.execPath;
  if (execFileSync(node, ['--version'], { encoding: 'utf8' }).trim() !== `v${version}`)
    throw new ImagesError(`the local base needs Node.js ${version}; this is ${process.version}`);
  const rootfs = join(ROOT, '.data', 'images', `rootfs-trixie`);
  const marker = join(rootfs, '.tweets-packages');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== BASE_PACKAGES.join(',')) {
    log(`building a minimal Debian trixie with debootstrap into ${rootfs} (a few minutes, once)`);
    rmSync(rootfs, { recursive: true, force: true });
    mkdirSync(dirname(rootfs), { recursive: true });
    // debootstrap runs chroot and friends from the sbin folders, which a non-login PATH may lack.
    const path = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`;
    execFileSync('/usr/sbin/debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, 'trixie', rootfs], {
      stdio: 'inherit',
      env: { ...process.env, PATH: path },
    });
    writeFileSync(marker, BASE_PACKAGES.join(','));
  }
  // Node.js and npm, laid out as the official image does.
  const local = join(rootfs, 'usr', 'local');
  rmSync(join(local, 'lib', 'node_modules'), { recursive: true, force: true });
  mkdirSync(join(local, 'bin'), { recursive: true });
  mkdirSync(join(local, 'lib', 'node_modules'), { recursive: true });
  execFileSync('cp', [node, join(local, 'bin', 'node')]);
  const tmp = mkdtempSync(join(tmpdir(), 'npm-pack-'));
  try {
    const file = execFileSync('npm', ['pack', `npm@${npmVersion}`, '--pack-destination', tmp, '--silent'], { cwd: tmp, encoding: 'utf8' })
      .trim()
      .split('\n')
      .pop()!;
    execFileSync('tar', ['-xzf', join(tmp, file), '-C', tmp]);
    execFileSync('mv', [join(tmp, 'package'), join(local, 'lib', 'node_modules', 'npm')]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const [bin, target] of [
    ['npm', 'npm-cli.js'],
    ['npx', 'npx-cli.js'],
  ] as const) {
    rmSync(join(local, 'bin', bin), { force: true });
    execFileSync('ln', ['-s', `../lib/node_modules/npm/bin/${target}`, join(local, 'bin', bin)]);
  }
  for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists']) rmSync(join(rootfs, d), { recursive: true, force: true });
  log(`importing ${ref} (Node.js ${version}, npm ${npmVersion})`);
  const tar = execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { maxBuffer: 1 << 30 });
  podman(
    ['import', '--change', 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin', '--change', 'CMD ["node"]', '-', ref],
    { input: tar },
  );
  return ref;
}

/** Pulls the public base for a platform; false when it cannot be had (no registry in reach). */
function pullBase(log: (m: string) => void, platform?: string): boolean {
  const e = engine();
  if (!e) return false;
  log(`pulling ${PUBLIC_BASE}${platform ? ` for ${platform}` : ''}`);
  const r = spawnSync(e.path, [...runtimeArgs(e.name), 'pull', ...(platform ? ['--platform', platform] : []), PUBLIC_BASE], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 120_000,
  });
  return r.status === 0;
}

/**
 * The base to build on: NODE_IMAGE or --base if given; the public one if it is here or can be pulled (for
 * the platform built, when one is given); else the local one, for this machine's own platform only.
 */
export function baseImage(log: (m: string) => void, wanted = process.env.NODE_IMAGE, platform?: string): string {
  if (wanted) return wanted;
  if ((!platform && imageExists(PUBLIC_BASE)) || pullBase(log, platform)) return PUBLIC_BASE;
  const own = `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`;
  if (platform && platform !== own)
    throw new ImagesError(`${PUBLIC_BASE} could not be pulled for ${platform}, and the local base is built for this machine's ${own} only`);
  log(`${PUBLIC_BASE} could not be pulled (public registries are out of reach); using a local base built from Debian's packages`);
  return localBase(log);
}

export interface BuiltImage {
  service: string;
  ref: string;
  port: number;
  sizeMb: number;
  buildSec: number;
}

function source(): string {
  try {
    return execFileSync('git', ['remote', 'get-url', 'origin'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'local';
  }
}

/** Builds every service image from its Containerfile (the repository's root as the context). */
export function buildImages(o: {
  base?: string;
  tag?: string;
  platform?: string;
  log: (m: string) => void;
  only?: string[];
}): BuiltImage[] {
  const base = baseImage(o.log, o.base ?? process.env.NODE_IMAGE, o.platform);
  const docker = engine()?.name === 'docker';
  const tag = o.tag ?? imageTag();
  const npmCache = join(ROOT, '.data', 'images', 'npm-cache');
  mkdirSync(npmCache, { recursive: true });
  const out: BuiltImage[] = [];
  for (const s of imageServices()) {
    if (o.only && !o.only.includes(s.name)) continue;
    const ref = imageRef(s.name, tag);
    const t0 = Date.now();
    o.log(`building ${ref} on ${base}`);
    podman(
      [
        'build',
        ...ULIMITS,
        // The build stage installs from the npm registry: the host's network, and its npm cache.
        '--network',
        'host',
        ...(o.platform ? ['--platform', o.platform] : []),
        // build-time volumes are Podman's (Docker's build has none): the npm cache and a proxy's CA
        ...(docker ? [] : ['--volume', `${npmCache}:/root/.npm`]),
        // A TLS-inspecting proxy's CA, where this machine has one, for npm in the build stage.
        ...(!docker && process.env.NODE_EXTRA_CA_CERTS && existsSync(process.env.NODE_EXTRA_CA_CERTS)
          ? ['--volume', `${process.env.NODE_EXTRA_CA_CERTS}:/run/extra-ca.crt:ro`, '--build-arg', 'NODE_EXTRA_CA_CERTS=/run/extra-ca.crt']
          : []),
        '--build-arg',
        `NODE_IMAGE=${base}`,
        '--build-arg',
        `REVISION=${tag}`,
        '--build-arg',
        `SOURCE=${source()}`,
        '--tag',
        ref,
        '--file',
        join(ROOT, 'services', s.name, 'Containerfile'),
        ROOT,
      ],
      { inherit: true },
    );
    const size = Number(podman(['image', 'inspect', '--format', '{{.Size}}', ref]));
    out.push({ service: s.name, ref, port: s.port, sizeMb: Math.round(size / 2 ** 20), buildSec: Math.round((Date.now() - t0) / 1000) });
  }
  return out;
}

export function renderImages(images: BuiltImage[]): string {
  return [
    '| image | size (MB) | build (s) |',
    '| --- | ---: | ---: |',
    ...images.map((i) => `| ${i.ref} | ${i.sizeMb} | ${i.buildSec} |`),
  ].join('\n');
}
