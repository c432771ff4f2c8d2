/**
 * The images the node runs, built here and imported into its containerd (no registry outside is
 * reachable): the services' (npm run images), and the third-party ones from the same sources the local
 * stack uses, each from deploy/cluster/images/<name>/Containerfile: Valkey and RabbitMQ on the Debian
 * roots the local stack runs them from, Kafka on production's jars, NGINX and Locust from Debian and
 * PyPI, and static Go binaries (pause, CoreDNS, metrics-server, the registry, oras) on nothing. Each is
 * tagged with a hash of what it is built from, so a change builds and rolls out a new one, and an image
 * already in containerd is not imported again.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBinaries, type ModuleName } from '../binaries.js';
import { goInstalled } from '../gotools.js';
import { buildImages, IMAGE_REPO, imageExists, imageRef, imageServices, imageTag, podman } from '../images.js';
import { layout, ROOT } from '../layout.js';
import { ORAS_MODULE } from '../loadtest.js';
import { DISTRIBUTION_MODULE } from '../registry.js';
import { rootDir, type RootName } from '../roots.js';
import { STATE } from './plan.js';

const IMAGES = join(ROOT, 'deploy', 'cluster', 'images');

/** What goes into an image's build folder beside its Containerfile: files (name in the folder -> path). */
type Inputs = (say: (m: string) => void) => Record<string, string>;

const built =
  (m: ModuleName, bin: string): Inputs =>
  (say) => ({ [bin]: ensureBinaries(m, [bin as never], say)[bin]! });
const installed =
  (bin: string, module: string): Inputs =>
  (say) => ({ [bin]: goInstalled(bin, module, say, { static: true }) });

/** Each third-party image: its inputs, and the Debian root it is built on (none: from scratch). */
export const THIRD_PARTY: Record<string, { inputs: Inputs; root?: RootName }> = {
  pause: { inputs: built('pause', 'pause') },
  coredns: { inputs: built('coredns', 'coredns') },
  'metrics-server': { inputs: built('metrics-server', 'metrics-server') },
  registry: { inputs: installed('registry', DISTRIBUTION_MODULE) },
  oras: { inputs: installed('oras', ORAS_MODULE) },
  valkey: { inputs: () => ({}), root: 'trixie' },
  rabbitmq: { inputs: () => ({}), root: 'forky' },
  kafka: { inputs: () => ({ libs: layout('local').kafkaLibs }), root: 'trixie' },
  nginx: { inputs: () => ({}), root: 'trixie' },
  locust: { inputs: () => ({ 'requirements.txt': join(ROOT, 'loadtest', 'requirements.txt') }), root: 'trixie' },
};

/** A Debian root as an image: its files, imported once (named by the root's own key). */
function rootImage(name: RootName, say: (m: string) => void): string {
  const dir = rootDir(name);
  const ref = `${IMAGE_REPO}/root-${dir.split('/').pop()}`;
  if (imageExists(ref)) return ref;
  say(`importing the Debian root ${dir} as ${ref}`);
  const tar = spawnSync('tar', ['-C', dir, '--numeric-owner', '--exclude=./proc/*', '-c', '.'], { maxBuffer: 4 << 30 });
  if (tar.status !== 0) throw new Error(`tar of ${dir} failed`);
  podman(['import', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '-', ref], { input: tar.stdout });
  return ref;
}

/** A hash of files and folders, by path and bytes. */
function hashOf(paths: string[], h = createHash('sha256')): ReturnType<typeof createHash> {
  for (const p of paths.sort()) {
    if (statSync(p).isDirectory())
      hashOf(
        readdirSync(p).map((f) => join(p, f)),
        h,
      );
    else h.update(p.slice(p.lastIndexOf('/'))).update(readFileSync(p));
  }
  return h;
}

/** Behind a TLS-inspecting proxy (the host's NODE_EXTRA_CA_CERTS names its CA bundle): the bundle, for pip in a build. */
function hostCa(): string[] {
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  return ca && existsSync(ca) ? ['--volume', `${ca}:/run/extra-ca.crt:ro`, '--build-arg', 'PIP_CERT=/run/extra-ca.crt'] : [];
}

/** One third-party image, built where its tag is not there yet. */
function thirdParty(name: string, say: (m: string) => void): string {
  const spec = THIRD_PARTY[name]!;
  const own = join(IMAGES, name);
  const inputs = spec.inputs(say);
  const base = spec.root ? rootImage(spec.root, say) : '';
  const tag = hashOf([own, ...Object.values(inputs)], createHash('sha256').update(base))
    .digest('hex')
    .slice(0, 12);
  const ref = `${IMAGE_REPO}/${name}:${tag}`;
  if (imageExists(ref)) return ref;
  const ctx = mkdtempSync(join(STATE, 'image-'));
  try {
    cpSync(own, ctx, { recursive: true });
    for (const [file, from] of Object.entries(inputs)) cpSync(from, join(ctx, file), { recursive: true });
    say(`building ${ref}`);
    podman(['build', '--network', 'host', ...(base ? ['--build-arg', `ROOT_IMAGE=${base}`] : []), ...hostCa(), '--tag', ref, ctx], {
      inherit: true,
    });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return ref;
}

/** Some third-party images, by name, built where missing. */
export const thirdPartyImages = (names: string[], say: (m: string) => void) =>
  Object.fromEntries(names.map((n) => [n, thirdParty(n, say)]));

/** Every image the node runs, by the name the manifests use for it: the services' and the third-party ones. */
export function clusterImages(say: (m: string) => void): Record<string, string> {
  mkdirSync(STATE, { recursive: true });
  const services = imageServices().map((s) => s.name);
  // the tag read once: a commit made while the images build must not rename what was built
  const tag = imageTag();
  const missing = services.filter((s) => !imageExists(imageRef(s, tag)));
  if (missing.length > 0) buildImages({ log: say, only: missing, tag });
  return {
    ...Object.fromEntries(services.map((s) => [s, imageRef(s, tag)])),
    ...thirdPartyImages(Object.keys(THIRD_PARTY), say),
  };
}

/** Imports every image containerd does not have yet (podman save, then ctr import, over containerd's socket). */
export function importImages(ctr: string, refs: string[], say: (m: string) => void): void {
  const ctl = (args: string[], input?: Buffer) =>
    spawnSync(ctr, ['--address', join(STATE, 'containerd', 'containerd.sock'), '--namespace', 'k8s.io', ...args], {
      input,
      maxBuffer: 64 << 20,
    });
  const have = new Set(ctl(['images', 'list', '--quiet']).stdout.toString().split('\n'));
  for (const ref of refs) {
    if (have.has(ref)) continue;
    const tar = join(STATE, 'image.tar');
    rmSync(tar, { force: true });
    podman(['save', '--format', 'docker-archive', '--output', tar, ref]);
    const r = ctl(['images', 'import', '--local', tar]);
    rmSync(tar, { force: true });
    if (r.status !== 0) throw new Error(`ctr import of ${ref}: ${r.stderr.toString().trim()}`);
    say(`imported ${ref} into the node`);
  }
  if (!existsSync(join(STATE, 'containerd'))) throw new Error('the node has no containerd folder: is it running?');
}
