/**
 * `npm run images [-- --push] [--base IMAGE]`: builds one OCI image per
 * service with Podman from services/<service>/Containerfile, tags it with the
 * commit, prints each image's size and build time, and with --push pushes
 * every image to the local OCI registry (stack/src/registry.ts) and checks
 * that the digest the registry serves is the one pushed.
 *
 * The Containerfiles take the Node.js base as NODE_IMAGE. Its default is the
 * public node:26-trixie-slim; where that image is not already here (public
 * registries are out of reach on this machine) a local base is built instead:
 * a minimal Debian trixie from Debian's packages (debootstrap) with the
 * project's pinned Node.js and npm, imported into Podman. Same Containerfiles.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './layout.js';

export const PODMAN = '/usr/bin/podman';
/** crun fails on this machine's cgroups; runc works. */
const RUNC = '/usr/sbin/runc';
const ULIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'];
export const PUBLIC_BASE = 'docker.io/library/node:26.12.1-trixie-slim';
export const IMAGE_REPO = 'localhost/tweets';

export class ImagesError extends Error {}

const INSTALL = 'apt-get install -y podman buildah runc && apt-get install -y -t bookworm-backports debootstrap (or: npm run provision -- --images, as root)';

/** Podman with the runtime that works here; stdout as text. */
export function podman(args: string[], opts: { input?: Buffer | string; inherit?: boolean; timeoutMs?: number } = {}): string {
  if (!existsSync(PODMAN)) throw new ImagesError(`podman is not installed. Install it as root: ${INSTALL}`);
  const r = spawnSync(PODMAN, ['--runtime', RUNC, ...args], {
    input: opts.input,
    encoding: 'utf8',
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', opts.inherit ? 'inherit' : 'pipe', opts.inherit ? 'inherit' : 'pipe'],
    maxBuffer: 64 << 20,
    timeout: opts.timeoutMs,
  });
  if (r.status !== 0) throw new ImagesError(`podman ${args.slice(0, 2).join(' ')} failed (${r.status ?? r.signal}): ${(r.stderr ?? '').trim().slice(-2000)}`);
  return (r.stdout ?? '').trim();
}

export const imageExists = (ref: string) => spawnSync(PODMAN, ['image', 'exists', ref]).status === 0;

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
  const recipe = createHash('sha256').update(JSON.stringify([version, npmVersion, BASE_PACKAGES])).digest('hex').slice(0, 8);
  const ref = `${IMAGE_REPO}/node-base:${version}-trixie-${recipe}`;
  if (imageExists(ref)) return ref;
  if (!existsSync('/usr/sbin/debootstrap')) throw new ImagesError(`debootstrap is not installed. Install it as root: ${INSTALL}`);
  const node = process.execPath;
  if (execFileSync(node, ['--version'], { encoding: 'utf8' }).trim() !== `v${version}`) throw new ImagesError(`the local base needs Node.js ${version}; this is ${process.version}`);
  const rootfs = join(ROOT, '.data', 'images', `rootfs-trixie`);
  const marker = join(rootfs, '.tweets-packages');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== BASE_PACKAGES.join(',')) {
    log(`building a minimal Debian trixie with debootstrap into ${rootfs} (a few minutes, once)`);
    rmSync(rootfs, { recursive: true, force: true });
    mkdirSync(dirname(rootfs), { recursive: true });
    // debootstrap runs chroot and friends from the sbin folders, which a non-login PATH may lack.
    const path = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/sbin:/sbin`;
    execFileSync('/usr/sbin/debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, 'trixie', rootfs], { stdio: 'inherit', env: { ...process.env, PATH: path } });
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
    const file = execFileSync('npm', ['pack', `npm@${npmVersion}`, '--pack-destination', tmp, '--silent'], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop()!;
    execFileSync('tar', ['-xzf', join(tmp, file), '-C', tmp]);
    execFileSync('mv', [join(tmp, 'package'), join(local, 'lib', 'node_modules', 'npm')]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  for (const [bin, target] of [['npm', 'npm-cli.js'], ['npx', 'npx-cli.js']] as const) {
    rmSync(join(local, 'bin', bin), { force: true });
    execFileSync('ln', ['-s', `../lib/node_modules/npm/bin/${target}`, join(local, 'bin', bin)]);
  }
  for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists']) rmSync(join(rootfs, d), { recursive: true, force: true });
  log(`importing ${ref} (Node.js ${version}, npm ${npmVersion})`);
  const tar = execFileSync('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { maxBuffer: 1 << 30 });
  podman(['import', '--change', 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin', '--change', 'CMD ["node"]', '-', ref], { input: tar });
  return ref;
}

/** The base to build on: NODE_IMAGE or --base if given; the public one if it is here; else the local one. */
export function baseImage(log: (m: string) => void, wanted = process.env.NODE_IMAGE): string {
  if (wanted) return wanted;
  if (existsSync(PODMAN) && imageExists(PUBLIC_BASE)) return PUBLIC_BASE;
  log(`${PUBLIC_BASE} is not here (public registries are out of reach); using a local base built from Debian's packages`);
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
    return execFileSync('git', ['remote', 'get-url', 'origin'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'local';
  }
}

/** Builds every service image from its Containerfile (the repository's root as the context). */
export function buildImages(o: { base?: string; tag?: string; log: (m: string) => void; only?: string[] }): BuiltImage[] {
  const base = baseImage(o.log, o.base);
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
        '--network', 'host',
        '--volume', `${npmCache}:/root/.npm`,
        // A TLS-inspecting proxy's CA, where this machine has one, for npm in the build stage.
        ...(process.env.NODE_EXTRA_CA_CERTS && existsSync(process.env.NODE_EXTRA_CA_CERTS)
          ? ['--volume', `${process.env.NODE_EXTRA_CA_CERTS}:/run/extra-ca.crt:ro`, '--build-arg', 'NODE_EXTRA_CA_CERTS=/run/extra-ca.crt']
          : []),
        '--build-arg', `NODE_IMAGE=${base}`,
        '--build-arg', `REVISION=${tag}`,
        '--build-arg', `SOURCE=${source()}`,
        '--tag', ref,
        '--file', join(ROOT, 'services', s.name, 'Containerfile'),
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
  return ['| image | size (MB) | build (s) |', '| --- | ---: | ---: |', ...images.map((i) => `| ${i.ref} | ${i.sizeMb} | ${i.buildSec} |`)].join('\n');
}

