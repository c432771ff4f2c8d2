/**
 * The local OCI registry, on loopback: Zot where a `zot` binary is on the
 * PATH, with the project's Zot config (deploy/zot/config.json, the file the
 * cloud VM uses; only its storage, listen address and htpasswd path are set
 * for the local run), otherwise CNCF Distribution v3.1.2, installed with
 * `go install` into .tools/go/bin (Zot is in none of the package registries
 * this project installs from). Both speak the OCI distribution API and take
 * htpasswd (bcrypt) logins; the user and password are generated into
 * .data/registry/ (gitignored). It runs detached until `npm stop`, by its PID.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { goInstalled, which } from './gotools.js';
import { ROOT } from './layout.js';
import { alive } from './state.js';
import { writeConf } from './conf.js';
import { REGISTRY_PORT } from './ports.js';

export { REGISTRY_PORT };
export const DISTRIBUTION_MODULE = 'github.com/distribution/distribution/v3/cmd/registry@v3.1.2';
const DIR = join(ROOT, '.data', 'registry');
const PID_FILE = join(DIR, 'registry.pid');

export interface Registry {
  kind: 'zot' | 'distribution';
  /** host:port, on loopback. */
  address: string;
  user: string;
  password: string;
  pid: number;
}

/** The Distribution binary, installed with go install the first time (about a minute of compiling). */
const distributionBinary = (log: (m: string) => void) => goInstalled('registry', DISTRIBUTION_MODULE, log);

/** The registry's login, made at random the first time, and its bcrypt htpasswd file. */
function credentials(): { user: string; password: string; htpasswd: string } {
  const file = join(DIR, 'credentials.json');
  const htpasswd = join(DIR, 'htpasswd');
  if (existsSync(file) && existsSync(htpasswd))
    return { ...(JSON.parse(readFileSync(file, 'utf8')) as { user: string; password: string }), htpasswd };
  if (!which('htpasswd'))
    throw new Error('htpasswd is not installed (apt-get install -y apache2-utils): the registry login needs a bcrypt htpasswd file');
  const c = { user: 'tweets', password: randomBytes(18).toString('base64url') };
  mkdirSync(DIR, { recursive: true, mode: 0o700 });
  writeFileSync(htpasswd, execFileSync('htpasswd', ['-Bbn', c.user, c.password], { encoding: 'utf8' }), { mode: 0o600 });
  writeFileSync(file, JSON.stringify(c), { mode: 0o600 });
  return { ...c, htpasswd };
}

/** Answers the registry's API root: 401 (a login is required) or 200 means it serves. */
async function serving(address: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${address}/v2/`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 401 || res.status === 200;
  } catch {
    return false;
  }
}

export function runningRegistry(): Registry | undefined {
  if (!existsSync(PID_FILE)) return undefined;
  const r = JSON.parse(readFileSync(PID_FILE, 'utf8')) as Registry;
  return alive(r.pid) ? r : undefined;
}

/** Zot with production's config (deploy/zot/config.json), on loopback without TLS. */
function zotServer(zot: string, storage: string, htpasswd: string): [string, string[]] {
  const config = JSON.parse(readFileSync(join(ROOT, 'deploy', 'zot', 'config.json'), 'utf8')) as {
    storage: { rootDirectory: string };
    http: { address: string; port: string; tls?: unknown; auth: { htpasswd: { path: string } } };
  };
  config.storage.rootDirectory = storage;
  config.http.address = '127.0.0.1';
  config.http.port = String(REGISTRY_PORT);
  delete config.http.tls; // loopback only
  config.http.auth.htpasswd.path = htpasswd;
  writeFileSync(join(DIR, 'zot.json'), JSON.stringify(config, null, 2));
  return [zot, ['serve', join(DIR, 'zot.json')]];
}

/** CNCF Distribution, its config from stack/conf/registry.yml. */
function distributionServer(address: string, storage: string, htpasswd: string, log: (m: string) => void): [string, string[]] {
  const config = join(DIR, 'distribution.yml');
  writeConf(config, 'registry.yml', {
    STORAGE: storage,
    ADDRESS: address,
    SECRET: randomBytes(24).toString('base64url'),
    HTPASSWD: htpasswd,
  });
  return [distributionBinary(log), ['serve', config]];
}

/** Starts the registry if it is not running; resolves once it serves. */
export async function ensureRegistry(log: (m: string) => void): Promise<Registry> {
  const running = runningRegistry();
  if (running && (await serving(running.address))) return running;
  const { user, password, htpasswd } = credentials();
  const address = `127.0.0.1:${REGISTRY_PORT}`;
  const storage = join(DIR, 'storage');
  mkdirSync(storage, { recursive: true });
  const zot = which('zot');
  const [command, args] = zot ? zotServer(zot, storage, htpasswd) : distributionServer(address, storage, htpasswd, log);
  const out = openSync(join(DIR, 'registry.log'), 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  const r: Registry = { kind: zot ? 'zot' : 'distribution', address, user, password, pid: child.pid! };
  writeFileSync(PID_FILE, JSON.stringify(r), { mode: 0o600 });
  for (const t0 = Date.now(); Date.now() - t0 < 60_000; await sleep(200)) {
    // Ours must be the one serving: another process on the port would answer too, with other logins.
    if (!alive(r.pid)) break;
    if (await serving(address)) {
      await sleep(300);
      if (!alive(r.pid)) break;
      log(`registry (${r.kind}) on ${address}, pid ${r.pid}; logs in ${join(DIR, 'registry.log')}`);
      return r;
    }
  }
  stopRegistry();
  throw new Error(`the registry did not serve on ${address} (is the port taken by another process?); see ${join(DIR, 'registry.log')}`);
}

/** Stops the registry this project started, by its PID. */
export function stopRegistry(): boolean {
  const r = runningRegistry();
  if (r) process.kill(r.pid, 'SIGTERM');
  rmSync(PID_FILE, { force: true });
  return !!r;
}

/** The manifest digest the registry serves for a repository and tag (its Docker-Content-Digest). */
export async function servedDigest(r: Registry, repository: string, tag: string): Promise<string> {
  const res = await fetch(`http://${r.address}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      authorization: `Basic ${Buffer.from(`${r.user}:${r.password}`).toString('base64')}`,
      accept: [
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.oci.image.index.v1+json',
      ].join(', '),
    },
    signal: AbortSignal.timeout(5000),
  });
  if (res.status !== 200) throw new Error(`HEAD ${repository}:${tag} answered ${res.status}`);
  return res.headers.get('docker-content-digest') ?? '';
}
