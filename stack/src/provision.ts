import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type StackLayout } from './layout.js';
import { ensureRoot, rootReady, ROOTS, type RootName } from './roots.js';

export const NGINX = '/usr/sbin/nginx';
export const JAVA = 'java';
/** util-linux's chrt: background components run under SCHED_IDLE. */
export const CHRT = '/usr/bin/chrt';

const BACKPORTS_SOURCES = '/etc/apt/sources.list.d/bookworm-backports.sources';
const BACKPORTS = `Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function log(msg: string): void {
  console.log(`[stack] ${msg}`);
}

export class ProvisionError extends Error {}

/**
 * Installs what the stack runs on, if missing: a Java runtime and Maven, NGINX and debootstrap (Debian), the
 * Debian roots Valkey 8.1, RabbitMQ 4.3 and Prometheus 3.5 run from (stack/src/roots.ts), then Kafka's jars
 * from Maven Central, at the version production runs. Without root it says exactly what to run instead.
 * Installing never starts a service.
 */
export function provision(l: StackLayout): void {
  const missing: string[] = [];
  if (!has('java')) missing.push('openjdk-17-jre-headless');
  if (!has('mvn')) missing.push('maven');
  if (!existsSync(CHRT)) missing.push('util-linux');
  // the seed's ingress in front of 1-3 APIs (npm start -- --apis N)
  if (!existsSync(NGINX)) missing.push('nginx');
  if (!existsSync(DEBOOTSTRAP)) missing.push('debootstrap');
  if (missing.length > 0) aptInstall(missing);
  for (const name of Object.keys(ROOTS) as RootName[]) {
    if (rootReady(name)) continue;
    if (process.getuid?.() !== 0)
      throw new ProvisionError(
        `the Debian ${ROOTS[name].suite} root the stack runs ${ROOTS[name].packages.join(', ')} from is not made yet: run \`npm run provision\` as root once`,
      );
    ensureRoot(name, log);
  }
  ensureKafkaJars(l);
}

const DEBOOTSTRAP = '/usr/sbin/debootstrap';

/**
 * What `npm run images` and the image tests need, if missing: Podman, Buildah
 * and runc (crun fails on this machine's cgroups), debootstrap from
 * bookworm-backports (it knows trixie, the local base), and htpasswd (the
 * local registry's bcrypt logins), shellcheck (the deploy scripts' check) and
 * Chromium (the live view's test).
 */
export function provisionImages(): void {
  const missing: string[] = [];
  if (!existsSync('/usr/bin/podman')) missing.push('podman');
  if (!existsSync('/usr/bin/buildah')) missing.push('buildah');
  if (!existsSync('/usr/sbin/runc')) missing.push('runc');
  if (!existsSync(DEBOOTSTRAP)) missing.push('debootstrap');
  if (!has('htpasswd')) missing.push('apache2-utils');
  // deploy/: the Kubernetes test runs shellcheck on every script
  if (!has('shellcheck')) missing.push('shellcheck');
  // the live view's test loads it in headless Chromium
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (missing.length > 0) aptInstall(missing);
  // the cluster tier's node
  provisionCluster();
}

/**
 * What the Kubernetes node of `npm run cluster` needs from Debian beside what it builds: runc, iptables
 * and ipset (the kubelet's chains, kube-router's NetworkPolicies), nft (kube-proxy's nftables mode),
 * openssl (its certificates) and htpasswd (the registry in it), and Podman for its images.
 */
export function provisionCluster(): void {
  const missing = [
    ['runc', '/usr/sbin/runc'],
    ['iptables', '/usr/sbin/iptables'],
    ['ipset', '/usr/sbin/ipset'],
    ['nftables', '/usr/sbin/nft'],
    ['openssl', '/usr/bin/openssl'],
    ['podman', '/usr/bin/podman'],
  ]
    .filter(([, path]) => !existsSync(path!))
    .map(([pkg]) => pkg!);
  if (!has('htpasswd')) missing.push('apache2-utils');
  if (missing.length > 0) aptInstall(missing);
}

/** What the local registry needs (npm run locust, npm run artifact): htpasswd for its bcrypt login. */
export function provisionRegistry(): void {
  if (!has('htpasswd')) aptInstall(['apache2-utils']);
}

function aptInstall(pkgs: string[]): void {
  const cmd = [
    `printf 'Types: deb\\nURIs: http://deb.debian.org/debian\\nSuites: bookworm-backports\\nComponents: main\\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\\n' > ${BACKPORTS_SOURCES}`,
    'apt-get update',
    `apt-get install -y -t bookworm-backports ${pkgs.join(' ')}`,
  ];
  if (process.getuid?.() !== 0) {
    throw new ProvisionError(
      `missing packages: ${pkgs.join(', ')}. Install them as root, then run this again:\n  sudo sh -c '${cmd.join(' && ')}'`,
    );
  }
  log(`installing ${pkgs.join(', ')} with apt (bookworm-backports for Valkey 8)`);
  if (!existsSync(BACKPORTS_SOURCES)) writeFileSync(BACKPORTS_SOURCES, BACKPORTS);
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  // policy-rc.d 101: packages install without starting their system services.
  const policy = '/usr/sbin/policy-rc.d';
  const hadPolicy = existsSync(policy);
  if (!hadPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', '-t', 'bookworm-backports', ...pkgs], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } finally {
    if (!hadPolicy) unlinkSync(policy);
  }
}

/** The Kafka version production runs (deploy/k8s/base/versions.env): the local stack fetches the same. */
export function kafkaVersion(): string {
  const v = pins().KAFKA_VERSION;
  if (!v) throw new ProvisionError('deploy/k8s/base/versions.env names no KAFKA_VERSION');
  return v;
}

/** Every pin of deploy/k8s/base/versions.env, the one versions file of the deployment and the local stack. */
export function pins(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'deploy', 'k8s', 'base', 'versions.env'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function ensureKafkaJars(l: StackLayout): void {
  const version = kafkaVersion();
  const jar = `kafka_2.13-${version}.jar`;
  if ([jar, `kafka-tools-${version}.jar`].every((j) => existsSync(join(l.kafkaLibs, j)))) return;
  if (existsSync(l.kafkaLibs)) rmSync(l.kafkaLibs, { recursive: true });
  log(`fetching Apache Kafka ${version} jars with Maven into ${l.kafkaLibs}`);
  execFileSync(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      join(ROOT, 'stack', 'kafka', 'pom.xml'),
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-Dkafka.version=${version}`,
      `-DoutputDirectory=${l.kafkaLibs}`,
    ],
    { stdio: 'inherit' },
  );
  if (!readdirSync(l.kafkaLibs).includes(jar)) throw new ProvisionError(`maven did not fetch ${jar}`);
}
