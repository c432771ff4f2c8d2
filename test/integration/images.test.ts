import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { weather, type WeatherDomain } from '@tweets/domain';
import { breakdownDelta } from '@tweets/store/stats';
import { fetchStats, runLoad, waitForCounts } from '@tweets/loadgen';
import {
  buildImages,
  components,
  ensureRegistry,
  grpcServing,
  httpReady,
  imageExists,
  imageRef,
  imageServices,
  imageTag,
  podman,
  servedDigest,
} from '@tweets/stack/images';
import { CONTAINER_PORTS } from '@tweets/stack';
import { COUNT_GUARD_MS, sleep, stack, uniq } from './helpers.js';

/**
 * The pipeline from its images: every service runs in a container built from
 * its Containerfile (podman run, host network, read-only root file system, no
 * capabilities, the image's non-root user), with the env and the secret files
 * the stack gives the same service, on its own ports (the port plan's
 * CONTAINER_PORTS, loopback only) and its own topic, queue, consumer group and Valkey prefix,
 * so only the containers handle what this test sends. Images are built first
 * where missing (podman's layer cache makes a rebuild of unchanged code quick).
 */

/** A test stack's service port -> the same port of the containers (the port plan's CONTAINER_PORTS). */
const PORT_OF = new Map(Object.entries(CONTAINER_PORTS).map(([k, port]) => [stack.ports[k as keyof typeof CONTAINER_PORTS], port]));
const containerPort = (p: string | number) => {
  const port = PORT_OF.get(Number(p));
  if (port === undefined) throw new Error(`port ${p} is no service port of stack ${stack.name}`);
  return String(port);
};
const ISOLATED = {
  KAFKA_TOPIC: 'weather-tweets-ct',
  RABBITMQ_QUEUE: 'weather-tweets-ct',
  KAFKA_GROUP: 'weather-tweets-ct',
  VALKEY_PREFIX: 'wtct',
};
const PORT_VARS = ['PORT', 'GRPC_PORT', 'HEALTH_PORT', 'METRICS_PORT'];
const ADDR_VARS = ['KAFKA_WRITER_ADDR', 'RABBITMQ_WRITER_ADDR'];
/** How long a container may take to stop on SIGTERM before podman kills it; far above the seconds a drain takes. */
const GRACE_SEC = 30;
const log = (m: string) => console.log(`# ${m}`);
const tag = imageTag();
const services = components(stack).filter((c) => c.kind === 'service');
const containers: string[] = [];
const secrets: string[] = [];

after(() => {
  if (process.env.KEEP_CONTAINERS) return; // to look at them after a failure
  for (const c of containers) podman(['rm', '--force', '--ignore', '--time', '5', c]);
  for (const s of secrets) podman(['secret', 'rm', s]);
});

/** The podman run arguments of one service: the stack's env with container ports and names, secrets as podman secrets. */
function runArgs(c: (typeof services)[number]): string[] {
  // The root file system is read-only; /tmp and the folder the secret files are mounted in are tmpfs.
  const args = [
    'run',
    '--detach',
    '--name',
    `ct-${c.name}`,
    '--network',
    'host',
    '--read-only',
    '--tmpfs',
    '/tmp',
    '--tmpfs',
    '/run/secrets:mode=0755',
  ];
  args.push('--cap-drop', 'all', '--security-opt', 'no-new-privileges');
  args.push('--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024');
  const env: Record<string, string> = { ...c.env, ...ISOLATED, HOST: '127.0.0.1', GRPC_HOST: '127.0.0.1', HEALTH_HOST: '127.0.0.1' };
  for (const v of PORT_VARS) if (env[v]) env[v] = containerPort(env[v]);
  for (const v of [...ADDR_VARS, 'DISPATCHER_URL'])
    if (env[v]) env[v] = env[v]!.replace(/:(\d+)$/, (_, p: string) => `:${containerPort(p)}`);
  for (const [k, v] of Object.entries(env)) {
    if (k.endsWith('_FILE')) {
      const name = `ct-${basename(v)}`;
      if (!secrets.includes(name)) {
        if (podman(['secret', 'ls', '--format', '{{.Name}}']).split('\n').includes(name)) podman(['secret', 'rm', name]);
        podman(['secret', 'create', name, v]);
        secrets.push(name);
      }
      args.push(
        '--secret',
        `${name},type=mount,target=/run/secrets/${basename(v)},uid=10001,mode=0400`,
        '--env',
        `${k}=/run/secrets/${basename(v)}`,
      );
    } else args.push('--env', `${k}=${v}`);
  }
  args.push(imageRef(c.service!, tag));
  return args;
}

function ready(c: (typeof services)[number]): Promise<boolean> {
  const port = Number(containerPort(c.env.PORT ?? c.env.GRPC_PORT ?? c.env.HEALTH_PORT!));
  return c.env.GRPC_PORT ? grpcServing(port) : httpReady(`http://127.0.0.1:${port}/readyz`);
}

async function waitReady(c: (typeof services)[number]): Promise<void> {
  for (const until = Date.now() + 120_000; Date.now() < until; await sleep(250)) if (await ready(c)) return;
  throw new Error(`${c.name} (container) was not ready: ${podman(['logs', '--tail', '20', `ct-${c.name}`])}`);
}

const api = `http://127.0.0.1:${CONTAINER_PORTS.api}`;

async function sendAndCount(count: number): Promise<void> {
  const before = await fetchStats<WeatherDomain>(api);
  const result = await runLoad({
    domain: weather,
    url: api,
    count,
    concurrency: 10,
    idPrefix: uniq('ct'),
    retry: { maxTotalMs: 120_000 },
    maxDurationMs: 600_000,
  });
  assert.equal(result.accepted, count, JSON.stringify(result.errors));
  const { reached } = await waitForCounts(api, before, Object.fromEntries(weather.paths.map((p) => [p, count])), COUNT_GUARD_MS);
  assert.ok(reached, 'both paths counted every accepted tweet');
  await sleep(1000);
  const after = await fetchStats<WeatherDomain>(api);
  for (const p of weather.paths) {
    assert.equal(after.paths[p].total - before.paths[p].total, count, `${p} total`);
    assert.deepEqual(
      breakdownDelta(weather, before.paths[p], after.paths[p]),
      result.accepted_breakdown,
      `${p} per (municipality, weather)`,
    );
  }
}

test('every service image is built, runs as a non-root numeric user, and names its revision', { timeout: 1_800_000 }, () => {
  const missing = imageServices().filter((s) => !imageExists(imageRef(s.name, tag)));
  if (missing.length > 0) buildImages({ tag, log, only: missing.map((s) => s.name) });
  for (const s of imageServices()) {
    const ref = imageRef(s.name, tag);
    assert.equal(podman(['image', 'inspect', '--format', '{{.Config.User}}', ref]), '10001:10001', ref);
    assert.equal(podman(['image', 'inspect', '--format', '{{index .Config.Labels "org.opencontainers.image.revision"}}', ref]), tag, ref);
    assert.match(podman(['image', 'inspect', '--format', '{{json .Config.ExposedPorts}}', ref]), new RegExp(`"${s.port}/tcp"`), ref);
  }
});

test(
  'the pipeline from images: exact counts on both paths; each container stops cleanly on SIGTERM and starts again',
  { timeout: 1_800_000 },
  async () => {
    for (const c of services) {
      // A container left by an interrupted run goes first.
      podman(['rm', '--force', '--ignore', `ct-${c.name}`]);
      containers.push(`ct-${c.name}`);
      podman(runArgs(c));
      await waitReady(c);
    }
    assert.equal(podman(['exec', 'ct-ingest-api', 'id', '-u']), '10001');
    assert.throws(() => podman(['exec', 'ct-ingest-api', 'sh', '-c', 'echo x > /app/x']), /Read-only file system/);
    await sendAndCount(2000);

    for (const c of [...services].reverse()) {
      const t0 = Date.now();
      podman(['stop', '--time', String(GRACE_SEC), `ct-${c.name}`]);
      const sec = (Date.now() - t0) / 1000;
      const exit = podman(['inspect', '--format', '{{.State.ExitCode}}', `ct-${c.name}`]);
      log(`${c.name}: stopped in ${sec.toFixed(1)} s, exit code ${exit}`);
      if (exit !== '0') log(podman(['logs', '--tail', '8', `ct-${c.name}`]));
      assert.equal(exit, '0', `${c.name} drained and exited 0 on SIGTERM (not killed after the grace period)`);
      assert.ok(sec < GRACE_SEC, `${c.name} stopped within its grace period`);
    }
    for (const c of services) {
      podman(['start', `ct-${c.name}`]);
      await waitReady(c);
    }
    await sendAndCount(500);
  },
);

test('every image round-trips through the local OCI registry with the same digest', { timeout: 900_000 }, async () => {
  const r = await ensureRegistry(log);
  for (const s of imageServices()) {
    const repository = `tweets/${s.name}`;
    const remote = `${r.address}/${repository}:${tag}`;
    const creds = `${r.user}:${r.password}`;
    const digestFile = `/tmp/push-${s.name}-${process.pid}.digest`;
    podman(['push', '--tls-verify=false', '--creds', creds, '--digestfile', digestFile, imageRef(s.name, tag), `docker://${remote}`]);
    const pushed = readFileSync(digestFile, 'utf8').trim();
    assert.match(pushed, /^sha256:[0-9a-f]{64}$/);
    assert.equal(await servedDigest(r, repository, tag), pushed, `${remote}: the registry serves what was pushed`);
    podman(['rmi', '--ignore', remote]);
    podman(['pull', '--tls-verify=false', '--creds', creds, remote]);
    const repoDigests = podman(['image', 'inspect', '--format', '{{json .RepoDigests}}', remote]);
    assert.ok(
      (JSON.parse(repoDigests) as string[]).includes(`${r.address}/${repository}@${pushed}`),
      `${remote}: pulled back with the pushed digest (${repoDigests})`,
    );
    assert.equal(
      podman(['image', 'inspect', '--format', '{{.Id}}', remote]),
      podman(['image', 'inspect', '--format', '{{.Id}}', imageRef(s.name, tag)]),
      `${remote}: the same image`,
    );
    podman(['rmi', remote]);
  }
});
