import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { amqpUrl, ROOT, secretFile, secrets, type StackLayout } from './layout.js';
import { amqpReady, grpcServing, httpReady, kafkaReady, tcpOpen, valkeyPing } from './probes.js';
import { BROKERS, domains, type BrokerPath, type DomainName } from '@tweets/domain';
import { checkOverrides, PROFILES, type Overrides, type Profile } from './profiles.js';
import { CHRT, JAVA, NGINX } from './provision.js';
import { inRoot, packageVersion } from './roots.js';
import { writeConf, writeFile as write } from './conf.js';

export type { Profile };

/** One process of the stack: how to prepare, start and probe it. */
export interface Component {
  name: string;
  /** broker: a broker or the store; service: ours (services/*); tool: beside them (Prometheus, the live view). */
  kind: 'broker' | 'service' | 'tool';
  command: string;
  args: string[];
  env: Record<string, string>;
  prepare?: () => void;
  /** true once it serves; 'loading' while it is up and still loading its data (the wait goes on, up to loadingTimeoutMs). */
  ready: () => Promise<boolean | 'loading'>;
  /**
   * How long it may take to become ready after a start: a guard against a hang, far above what a slow,
   * busy machine needs (the wait ends as soon as it is ready).
   */
  readyTimeoutMs: number;
  /** How long it may take in all while it reports 'loading' (default: readyTimeoutMs). */
  loadingTimeoutMs?: number;
  /** How long a graceful stop (SIGTERM) may take before SIGKILL. */
  stopTimeoutMs: number;
  /**
   * Off the request path (the consumers and the store they write to): on a
   * shared machine it runs at the lowest CPU priority (see backgroundPolicy).
   */
  background?: boolean;
  /** For our services: the folder under services/ it runs from (and whose image runs it in a container). */
  service?: string;
  /** The broker path it exists for (a broker, its writer, its consumer): left out for a domain without that path. */
  path?: BrokerPath;
  /** For a second or later replica of a service (writer-kafka-2): the service whose settings it takes (writer-kafka). */
  replicaOf?: string;
  /** Restarted with the services when a running stack is reconfigured (NGINX: its upstreams are the API processes). */
  followsServices?: boolean;
}

/** A Valkey server of the stack: the primary, or (replicated shape) its replica. */
export interface ValkeyNode {
  name: string;
  port: number;
  dir: string;
}

/** The name the sentinels know the replicated Valkey by (VALKEY_PRIMARY_NAME). */
export const VALKEY_PRIMARY_NAME = 'tweets';

/**
 * Valkey: one server, or in the replicated shape a primary and a replica, which three sentinels watch: when
 * the primary is unreachable for 3 s, a majority of them promotes the replica, and the services, which ask
 * the sentinels for the primary, follow it.
 */
export function valkeyNodes(l: StackLayout, replicated = false): ValkeyNode[] {
  const primary = { name: 'valkey', port: l.ports.valkey, dir: join(l.dir, 'valkey') };
  return replicated ? [primary, { name: 'valkey-2', port: l.ports.valkeyReplica, dir: join(l.dir, 'valkey-2') }] : [primary];
}

/** The replicated shape's sentinels' ports. */
export const sentinelPorts = (l: StackLayout) => [l.ports.sentinel1, l.ports.sentinel2, l.ports.sentinel3];

/** The settings that make a server a replica (the second) and let either be one after a failover. */
function valkeyReplication(l: StackLayout, node: ValkeyNode, nodes: readonly ValkeyNode[]): string[] {
  if (nodes.length === 1) return [];
  const auth = ['masteruser default', `masterauth ${secrets(l).valkeyAdminPassword}`];
  return node === nodes[0] ? auth : [...auth, `replicaof 127.0.0.1 ${nodes[0]!.port}`];
}

function valkey(l: StackLayout, node: ValkeyNode, nodes: readonly ValkeyNode[]): Component {
  const dir = node.dir;
  const s = secrets(l);
  return {
    name: node.name,
    kind: 'broker',
    background: true,
    // Valkey 8.1 from Debian trixie (stack/src/roots.ts); its settings, and why, in stack/conf/valkey.conf
    ...inRoot('trixie', '/usr/bin/valkey-server', [join(dir, 'valkey.conf')]),
    env: {},
    prepare() {
      writeConf(join(dir, 'users.acl'), 'valkey-users.acl', {
        ADMIN_PASSWORD: s.valkeyAdminPassword,
        WRITER_PASSWORD: s.valkeyWriterPassword,
        READER_PASSWORD: s.valkeyReaderPassword,
      });
      writeConf(join(dir, 'valkey.conf'), 'valkey.conf', {
        PORT: node.port,
        DIR: dir,
        MAXMEMORY: process.env.STACK_VALKEY_MAXMEMORY ?? '4gb',
        REPLICATION: valkeyReplication(l, node, nodes),
      });
    },
    ready: () => valkeyPing(node.port, 'writer', s.valkeyWriterPassword),
    readyTimeoutMs: 60_000,
    // Replaying a large AOF (a benchmark's millions of dedup keys) takes longer than a start.
    loadingTimeoutMs: 600_000,
    stopTimeoutMs: 10_000,
  };
}

/**
 * A sentinel of the replicated Valkey (valkey-server --sentinel): it watches the primary, and with the others
 * promotes the replica when the primary has been unreachable for 3 s (a quorum of 2 of 3 agrees it is down).
 * Its config file is its own to rewrite (what it learns: the replica, the other sentinels, a failover).
 */
function sentinel(l: StackLayout, i: number): Component {
  const dir = join(l.dir, 'valkey-sentinel', String(i + 1));
  const port = sentinelPorts(l)[i]!;
  return {
    name: `valkey-sentinel-${i + 1}`,
    kind: 'broker',
    background: true,
    ...inRoot('trixie', '/usr/bin/valkey-server', [join(dir, 'sentinel.conf'), '--sentinel']),
    env: {},
    prepare() {
      writeConf(join(dir, 'sentinel.conf'), 'sentinel.conf', {
        PORT: port,
        DIR: dir,
        NAME: VALKEY_PRIMARY_NAME,
        PRIMARY_PORT: l.ports.valkey,
        ADMIN_PASSWORD: secrets(l).valkeyAdminPassword,
      });
    },
    ready: () => tcpOpen(port),
    readyTimeoutMs: 30_000,
    stopTimeoutMs: 5_000,
  };
}

function epmd(l: StackLayout): Component {
  return {
    name: 'epmd',
    kind: 'broker',
    // RabbitMQ's Erlang's own epmd, from the same root
    ...inRoot('forky', '/usr/bin/epmd', ['-port', String(l.ports.epmd), '-address', '127.0.0.1']),
    env: {},
    ready: () => tcpOpen(l.ports.epmd),
    readyTimeoutMs: 30_000,
    stopTimeoutMs: 5_000,
  };
}

/** A RabbitMQ node of the stack: its id, its process's name, its Erlang node name and its ports. */
export interface RabbitNode {
  id: number;
  name: string;
  node: string;
  amqp: number;
  dist: number;
}

/**
 * RabbitMQ's nodes: one, or three in the replicated shape (`--replicated`), clustered at their first boot
 * (classic config peer discovery): the quorum queues get a member on each, a write is confirmed once two
 * have it on disk, and losing one node loses nothing confirmed.
 */
export function rabbitmqNodes(l: StackLayout, replicated = false): RabbitNode[] {
  const p = l.ports;
  if (!replicated) return [{ id: 1, name: 'rabbitmq', node: `tweets-${l.name}@localhost`, amqp: p.amqp, dist: p.rabbitmqDist }];
  const node = (id: number, name: string, amqp: number, dist: number): RabbitNode => ({
    id,
    name,
    node: `tweets-${l.name}-r${id}@localhost`,
    amqp,
    dist,
  });
  return [
    node(1, 'rabbitmq', p.amqp, p.rabbitmqDist),
    node(2, 'rabbitmq-2', p.amqp2, p.rabbitmqDist2),
    node(3, 'rabbitmq-3', p.amqp3, p.rabbitmqDist3),
  ];
}

/**
 * A RabbitMQ node's folder: the single node's as before; the replicated shape's nodes apart (another
 * cluster). Its data in a folder per minor version (data of an older line, 3.10's, is not upgraded in place;
 * a new one starts empty).
 */
function rabbitmqHome(l: StackLayout, node: RabbitNode, nodes: readonly RabbitNode[]): { home: string; data: string } {
  const dir = join(l.dir, 'rabbitmq');
  const home = nodes.length === 1 ? dir : join(dir, 'replicated', String(node.id));
  return { home, data: join(home, `data-${packageVersion('forky', 'rabbitmq-server').split('.').slice(0, 2).join('.')}`) };
}

/** The environment of a RabbitMQ node's server, and of the CLI that talks to it (its HOME holds the Erlang cookie every node shares). */
export function rabbitmqEnv(
  l: StackLayout,
  node: RabbitNode = rabbitmqNodes(l)[0]!,
  nodes: readonly RabbitNode[] = [node],
): Record<string, string> {
  const { home, data } = rabbitmqHome(l, node, nodes);
  return {
    HOME: join(l.dir, 'rabbitmq'),
    // The start script execs the Erlang VM instead of waiting on it as a child: the PID is the broker's own.
    RUNNING_UNDER_SYSTEMD: 'true',
    RABBITMQ_NODENAME: node.node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(node.amqp),
    RABBITMQ_DIST_PORT: String(node.dist),
    ERL_EPMD_PORT: String(l.ports.epmd),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: data,
    RABBITMQ_LOG_BASE: join(home, 'log'),
    RABBITMQ_CONFIG_FILE: join(home, 'rabbitmq.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(home, 'advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(home, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: join(home, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: join(home, 'rabbitmq.pid'),
    // No scheduler busy-waiting: on a small machine the spinning Erlang schedulers
    // take CPU the other processes of the pipeline need.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: process.env.RABBITMQ_ERL_ARGS ?? '+sbwt none +sbwtdcpu none +sbwtdio none',
  };
}

/** The settings that cluster the replicated shape's nodes at their first boot. */
function clusterFormation(nodes: readonly RabbitNode[]): string[] {
  if (nodes.length === 1) return [];
  return [
    'cluster_formation.peer_discovery_backend = classic_config',
    ...nodes.map((n) => `cluster_formation.classic_config.nodes.${n.id} = ${n.node}`),
  ];
}

/**
 * A node serves once it takes AMQP connections. Of three, the last serves once all three do (the quorum
 * queues are then declared with a member on each); the first two, when no other node serves yet (a cluster
 * started again waits at boot for its peers), once their distribution port listens, as Kafka's controllers.
 */
function rabbitmqReady(node: RabbitNode, nodes: readonly RabbitNode[], url: (n: RabbitNode) => string): Component['ready'] {
  const serves = (n: RabbitNode) => amqpReady(url(n));
  if (nodes.length === 1) return () => serves(node);
  if (node === nodes.at(-1)) return async () => (await Promise.all(nodes.map(serves))).every(Boolean);
  return async () =>
    (await serves(node)) || (!(await Promise.all(nodes.filter((n) => n !== node).map(serves))).some(Boolean) && (await tcpOpen(node.dist)));
}

function rabbitmq(l: StackLayout, node: RabbitNode, nodes: readonly RabbitNode[]): Component {
  const { home, data } = rabbitmqHome(l, node, nodes);
  const s = secrets(l);
  const url = (n: RabbitNode) => amqpUrl(s, n.amqp);
  return {
    name: node.name,
    kind: 'broker',
    // RabbitMQ 4.3 from Debian forky (stack/src/roots.ts)
    ...inRoot('forky', '/usr/lib/rabbitmq/bin/rabbitmq-server', []),
    env: rabbitmqEnv(l, node, nodes),
    prepare() {
      mkdirSync(data, { recursive: true });
      mkdirSync(join(home, 'log'), { recursive: true });
      writeConf(join(home, 'rabbitmq.conf'), 'rabbitmq.conf', {
        AMQP_PORT: node.amqp,
        USER: s.rabbitmqUser,
        PASSWORD: s.rabbitmqPassword,
        CLUSTER_FORMATION: clusterFormation(nodes),
      });
      writeConf(join(home, 'advanced.config'), 'rabbitmq-advanced.config', {});
      write(join(home, 'enabled_plugins'), '[].\n');
      write(join(home, 'rabbitmq-env.conf'), '');
    },
    ready: rabbitmqReady(node, nodes, url),
    readyTimeoutMs: 180_000,
    stopTimeoutMs: 30_000,
  };
}

/** A Kafka node of the stack: its id, its process's name, its broker and controller ports. */
export interface KafkaNode {
  id: number;
  name: string;
  port: number;
  controller: number;
}

/**
 * Kafka's nodes: one, or three in the replicated shape (`--replicated`), each a broker and a KRaft
 * controller: a quorum of three voters, every partition on three brokers.
 */
export function kafkaNodes(l: StackLayout, replicated = false): KafkaNode[] {
  const p = l.ports;
  const one: KafkaNode = { id: 1, name: 'kafka', port: p.kafka, controller: p.kafkaController };
  if (!replicated) return [one];
  return [
    one,
    { id: 2, name: 'kafka-2', port: p.kafka2, controller: p.kafkaController2 },
    { id: 3, name: 'kafka-3', port: p.kafka3, controller: p.kafkaController3 },
  ];
}

/** The settings a Kafka node takes from the number of nodes (stack/conf/kafka-server.properties says why). */
function replication(n: number): string[] {
  const [factor, isr] = n === 1 ? [1, 1] : [3, 2];
  const fencing = n === 1 ? [] : ['broker.heartbeat.interval.ms=1000', 'broker.session.timeout.ms=6000', 'replica.lag.time.max.ms=10000'];
  return [
    `offsets.topic.replication.factor=${factor}`,
    `transaction.state.log.replication.factor=${factor}`,
    `transaction.state.log.min.isr=${isr}`,
    `default.replication.factor=${factor}`,
    `min.insync.replicas=${isr}`,
    ...fencing,
  ];
}

function kafka(l: StackLayout, node: KafkaNode, nodes: KafkaNode[]): Component {
  const dir = join(l.dir, 'kafka');
  // the single node's folder as before; the replicated shape's nodes apart (another cluster)
  const home = nodes.length === 1 ? dir : join(dir, 'replicated', String(node.id));
  return {
    name: node.name,
    kind: 'broker',
    command: JAVA,
    args: [
      '-Xms256m',
      '-Xmx512m',
      ...(process.env.KAFKA_JVM_FLAGS ?? '-XX:+UseG1GC -XX:MaxGCPauseMillis=20').split(' ').filter(Boolean),
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
      '-cp',
      `${l.kafkaLibs}/*`,
      'kafka.Kafka',
      join(home, 'server.properties'),
    ],
    env: {},
    prepare() {
      const data = join(home, 'data');
      writeConf(join(home, 'server.properties'), 'kafka-server.properties', {
        NODE_ID: node.id,
        PORT: node.port,
        CONTROLLER_PORT: node.controller,
        VOTERS: nodes.map((n) => `${n.id}@127.0.0.1:${n.controller}`).join(','),
        DATA: data,
        REPLICATION: replication(nodes.length),
        NETWORK_THREADS: process.env.KAFKA_NETWORK_THREADS ?? 2,
        IO_THREADS: process.env.KAFKA_IO_THREADS ?? 2,
      });
      writeConf(join(dir, 'log4j2.properties'), 'kafka-log4j2.properties', {});
      if (!existsSync(join(data, 'meta.properties'))) formatKafka(l, clusterIdOf(dir, nodes.length), join(home, 'server.properties'));
    },
    // A node of three serves once a quorum of controllers runs: the first two are started once they
    // listen, the last once all three serve.
    ready:
      nodes.length === 1
        ? () => kafkaReady(node.port)
        : node === nodes.at(-1)
          ? async () => (await Promise.all(nodes.map((n) => kafkaReady(n.port)))).every(Boolean)
          : () => tcpOpen(node.controller),
    readyTimeoutMs: 180_000,
    stopTimeoutMs: 30_000,
  };
}

/** The cluster id a node's folder is formatted with: a new one for the single node; one the replicated shape's three nodes share. */
function clusterIdOf(dir: string, nodes: number): string {
  if (nodes === 1) return randomBytes(16).toString('base64url');
  const file = join(dir, 'replicated', 'cluster-id');
  if (!existsSync(file)) write(file, randomBytes(16).toString('base64url'));
  return readFileSync(file, 'utf8').trim();
}

function formatKafka(l: StackLayout, clusterId: string, props: string): void {
  execFileSync(JAVA, ['-cp', `${l.kafkaLibs}/*`, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, `--config=${props}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

function service(name: string, dir: string, env: Record<string, string>, ready: () => Promise<boolean>, background = false): Component {
  return {
    name,
    kind: 'service',
    service: dir,
    background,
    command: process.execPath,
    // CPU_PROF_DIR=<dir>: every service writes a V8 CPU profile there when it stops (docs/benchmarks.md).
    args: [
      ...(process.env.CPU_PROF_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF_DIR}`, `--cpu-prof-name=${name}.cpuprofile`]
        : []),
      join(ROOT, 'services', dir, 'dist', 'src', 'main.js'),
    ],
    env: { LOG_LEVEL: 'info', ...env },
    ready,
    readyTimeoutMs: 90_000,
    stopTimeoutMs: 20_000,
  };
}

/**
 * How background components run (STACK_BACKGROUND): `idle` (the default) under
 * SCHED_IDLE, so on a shared machine they get the CPU the request path (API,
 * dispatcher, writers, brokers) leaves; `normal` like everything else. Every
 * 2xx waits for the brokers, not for the consumers: the consumers' lag is
 * what a busy machine grows, and it is bounded by the load, not by priority.
 */
export type BackgroundPolicy = 'idle' | 'normal';

export function backgroundPolicy(profile: Profile = 'default', env = process.env): BackgroundPolicy {
  const v = env.STACK_BACKGROUND ?? 'idle';
  if (v !== 'idle' && v !== 'normal') throw new Error(`STACK_BACKGROUND must be idle or normal; got ${JSON.stringify(v)}`);
  // The naive profile stands for the implementations we compare with: no priorities.
  return profile === 'naive' ? 'normal' : v;
}

/** The command line a component starts with under a background policy: SCHED_IDLE by chrt, which then execs it (same PID). */
export function launchLine(
  c: Pick<Component, 'command' | 'args' | 'background'>,
  policy: BackgroundPolicy,
): { command: string; args: string[] } {
  if (c.background && policy === 'idle') return { command: CHRT, args: ['--idle', '0', c.command, ...c.args] };
  return { command: c.command, args: c.args };
}

/** Where the dispatcher sends every item: `both` (every path of the domain) or one path. */
export type Route = 'both' | BrokerPath;
export const ROUTES: readonly Route[] = ['both', ...BROKERS];

export interface StackOptions {
  route?: Route;
  profile?: Profile;
  /** The domain every service runs (DOMAIN): weather by default; blackfriday is Kafka only, so RabbitMQ is not started for it. */
  domain?: DomainName;
  /** Writer processes per broker (1 by default); the dispatcher spreads its streams over them, as over a headless Service's pods. */
  writers?: number;
  /**
   * API processes behind NGINX, as the seed's ingress in front of the API's replicas (1 to 3); 0, the
   * default: no NGINX, one API on the API port.
   */
  apis?: number;
  /**
   * Kafka on three nodes (replication factor 3, in-sync minimum 2) and RabbitMQ on three (quorum queues
   * with three members), as in production: `npm start -- --replicated`.
   */
  replicated?: boolean;
}

/** What a stack runs, every option with its default: what its state records and a start or reconfigure asks for. */
export type StackShape = Required<StackOptions>;

/** The options with their defaults; also reads a stack's state, whose fields are the same (absent in older states). */
export function shapeOf(
  o: { route?: string; profile?: string; domain?: string; writers?: number; apis?: number; replicated?: boolean } = {},
): StackShape {
  return {
    route: (o.route ?? 'both') as Route,
    profile: (o.profile ?? 'default') as Profile,
    domain: (o.domain ?? 'weather') as DomainName,
    writers: o.writers ?? 1,
    apis: o.apis ?? 0,
    replicated: o.replicated ?? false,
  };
}

export const sameShape = (a: StackShape, b: StackShape) => (Object.keys(a) as (keyof StackShape)[]).every((k) => a[k] === b[k]);

export const describeShape = (s: StackShape) =>
  `route ${s.route}, profile ${s.profile}, domain ${s.domain}, ${s.writers} writer(s) per broker, ${s.apis} API(s) behind NGINX${s.replicated ? ', Kafka and RabbitMQ on three nodes each, Valkey with a replica and three sentinels' : ''}`;

/**
 * STACK_ENV='{"ingest-api":{"FORWARD_LINGER_MS":"2"}}': settings for a tuning run, over everything else,
 * checked like a profile: a setting no service reads is an error.
 */
export function tuning(env = process.env): Overrides {
  return env.STACK_ENV ? checkOverrides(JSON.parse(env.STACK_ENV) as Record<string, Record<string, string>>, 'STACK_ENV') : {};
}

/** Every process of a stack, in start order: brokers, writers, consumers, dispatcher, API. */
export function components(l: StackLayout, opts: StackOptions = {}): Component[] {
  const list = baseComponents(l, opts);
  const profile: Overrides = checkOverrides(PROFILES[opts.profile ?? 'default'], `profile ${opts.profile}`);
  const tuned = tuning();
  for (const c of list) {
    const key = (c.replicaOf ?? c.name) as keyof Overrides;
    Object.assign(c.env, profile[key] ?? {}, tuned[key] ?? {});
  }
  return list;
}

function baseComponents(l: StackLayout, opts: StackOptions): Component[] {
  const domain = domains[opts.domain ?? 'weather'];
  const all = everyComponent(l, opts);
  for (const c of all) if (c.kind === 'service' || c.name === 'view') c.env.DOMAIN = domain.name;
  return all.filter((c) => !c.path || (domain.paths as readonly BrokerPath[]).includes(c.path));
}

/** A component that exists for a broker path (left out for a domain without it). */
const on = (path: BrokerPath, c: Component): Component => ({ ...c, path });

function everyComponent(l: StackLayout, opts: StackOptions): Component[] {
  const replicated = opts.replicated ?? false;
  const writers = (path: BrokerPath) => writerReplicas(l, path, opts.writers ?? 1);
  const apis = apiReplicas(l, opts.apis ?? 0);
  const brokers = brokerEnv(l, replicated);
  return [
    ...storesAndBrokers(l, replicated),
    ...BROKERS.flatMap((path) => writers(path).map((w) => on(path, { ...writer(w, path, brokers[path]), ...w.replica }))),
    ...BROKERS.map((path) => on(path, consumer(l, path, { ...brokers[path], ...valkeyEnv(l, replicated, 'writer') }))),
    service(
      'dispatcher',
      'dispatcher',
      {
        PORT: String(l.ports.dispatcher),
        ROUTE: opts.route ?? 'both',
        KAFKA_WRITER_ADDR: writerTarget(writers('kafka')),
        RABBITMQ_WRITER_ADDR: writerTarget(writers('rabbitmq')),
      },
      () => httpReady(`http://127.0.0.1:${l.ports.dispatcher}/readyz`),
    ),
    ...apis.map((a) => ({ ...api(l, a.name, a.port, valkeyEnv(l, replicated, 'reader')), ...a.replica })),
    ...((opts.apis ?? 0) > 0 ? [nginx(l, apis)] : []),
    prometheus(l, [...writers('kafka'), ...writers('rabbitmq')], apis),
    view(l),
  ];
}

/** The stores and brokers, in start order: Valkey (its replica and sentinels), RabbitMQ (epmd, its nodes), Kafka. */
function storesAndBrokers(l: StackLayout, replicated: boolean): Component[] {
  const valkeys = valkeyNodes(l, replicated);
  const rabbits = rabbitmqNodes(l, replicated);
  const kafkas = kafkaNodes(l, replicated);
  return [
    ...valkeys.map((n) => valkey(l, n, valkeys)),
    ...(replicated ? [0, 1, 2].map((i) => sentinel(l, i)) : []),
    on('rabbitmq', epmd(l)),
    ...rabbits.map((n) => on('rabbitmq', rabbitmq(l, n, rabbits))),
    ...kafkas.map((n) => on('kafka', kafka(l, n, kafkas))),
  ];
}

/** Where a path's writers and consumer find its broker: Kafka's bootstrap list, RabbitMQ's URL (or URLs) in a secret file. */
function brokerEnv(l: StackLayout, replicated: boolean): Record<BrokerPath, Record<string, string>> {
  const kafkas = kafkaNodes(l, replicated);
  return {
    kafka: { KAFKA_BROKERS: kafkas.map((n) => `127.0.0.1:${n.port}`).join(',') },
    rabbitmq: { RABBITMQ_URL_FILE: secretFile(l, replicated ? 'rabbitmq-urls' : 'rabbitmq-url') },
  };
}

/**
 * Where a service finds Valkey, and as which user. In the replicated shape it asks the sentinels for the
 * primary, and a consumer's batch counts once the replica has it too.
 */
function valkeyEnv(l: StackLayout, replicated: boolean, user: 'writer' | 'reader'): Record<string, string> {
  const sentinels = sentinelPorts(l)
    .map((port) => `127.0.0.1:${port}`)
    .join(',');
  return {
    ...(replicated ? { VALKEY_SENTINELS: sentinels, VALKEY_PRIMARY_NAME } : {}),
    ...(replicated && user === 'writer' ? { VALKEY_WAIT_REPLICAS: '1' } : {}),
    VALKEY_ADDR: `127.0.0.1:${l.ports.valkey}`,
    VALKEY_USERNAME: user,
    VALKEY_PASSWORD_FILE: secretFile(l, `valkey-${user}-password`),
  };
}

function writer(w: { name: string; port: number; metricsPort: number }, path: BrokerPath, broker: Record<string, string>): Component {
  const env = { BROKER: path, GRPC_PORT: String(w.port), METRICS_PORT: String(w.metricsPort), ...broker };
  return service(w.name, 'writer', env, () => grpcServing(w.port));
}

function consumer(l: StackLayout, path: BrokerPath, stores: Record<string, string>): Component {
  const port = path === 'kafka' ? l.ports.kafkaConsumer : l.ports.rabbitmqConsumer;
  // Kafka's static membership: a restarted consumer takes its partitions back without a rebalance
  const member: Record<string, string> = path === 'kafka' ? { KAFKA_GROUP_INSTANCE_ID: 'kafka-consumer-0' } : {};
  const env = { HEALTH_PORT: String(port), ...member, ...stores };
  return service(`${path}-consumer`, `${path}-consumer`, env, () => httpReady(`http://127.0.0.1:${port}/readyz`), true);
}

function api(l: StackLayout, name: string, port: number, valkey: Record<string, string>): Component {
  const env = { PORT: String(port), DISPATCHER_URL: `http://127.0.0.1:${l.ports.dispatcher}`, ...valkey };
  return service(name, 'ingest-api', env, () => httpReady(`http://127.0.0.1:${port}/readyz`));
}

/** The live bar chart page (stack/src/view.ts), reading the API's /stats. */
function view(l: StackLayout): Component {
  return {
    name: 'view',
    kind: 'tool',
    command: process.execPath,
    args: [join(ROOT, 'stack', 'dist', 'src', 'view.js')],
    env: { VIEW_PORT: String(l.ports.view), API_URL: `http://127.0.0.1:${l.ports.api}` },
    ready: () => httpReady(`http://127.0.0.1:${l.ports.view}/livez`),
    readyTimeoutMs: 30_000,
    stopTimeoutMs: 5_000,
    background: true,
  };
}

/** A broker's writer processes: the first on the stack's writer ports, each next one 100 ports above the last. */
export function writerReplicas(
  l: StackLayout,
  path: BrokerPath,
  n: number,
): { name: string; port: number; metricsPort: number; replica: Partial<Component> }[] {
  if (!Number.isInteger(n) || n < 1 || n > 4) throw new Error(`writers must be 1 to 4; got ${n}`);
  const base =
    path === 'kafka'
      ? { port: l.ports.kafkaWriter, metrics: l.ports.kafkaWriterMetrics }
      : { port: l.ports.rabbitmqWriter, metrics: l.ports.rabbitmqWriterMetrics };
  return Array.from({ length: n }, (_, i) => ({
    name: i === 0 ? `writer-${path}` : `writer-${path}-${i + 1}`,
    port: base.port + 100 * i,
    metricsPort: base.metrics + 100 * i,
    replica: i === 0 ? {} : { replicaOf: `writer-${path}` },
  }));
}

/**
 * The API processes: with no NGINX, one on the stack's API port; behind NGINX (which then takes the API
 * port), n of them, 100, 200 and 300 ports above it.
 */
export function apiReplicas(l: StackLayout, n: number): { name: string; port: number; replica: Partial<Component> }[] {
  if (!Number.isInteger(n) || n < 0 || n > 3) throw new Error(`apis must be 0 to 3; got ${n}`);
  if (n === 0) return [{ name: 'ingest-api', port: l.ports.api, replica: {} }];
  return Array.from({ length: n }, (_, i) => ({
    name: i === 0 ? 'ingest-api' : `ingest-api-${i + 1}`,
    port: l.ports.api + 100 * (i + 1),
    replica: i === 0 ? {} : { replicaOf: 'ingest-api' },
  }));
}

/**
 * NGINX (Debian's) on the API port in front of the API processes, configured as the seed's ingress
 * controller does it: one upstream with keep-alive connections to every API process, round robin, request
 * bodies up to 1 MiB, no access log; a POST is never retried on another process (NGINX's default for
 * non-idempotent requests: the client retries with its Idempotency-Key).
 */
function nginx(l: StackLayout, apis: readonly { port: number }[]): Component {
  const dir = join(l.dir, 'nginx');
  const conf = join(dir, 'nginx.conf');
  return {
    name: 'nginx',
    kind: 'tool',
    followsServices: true,
    command: NGINX,
    args: ['-e', join(dir, 'error.log'), '-p', dir, '-c', conf, '-g', 'daemon off;'],
    env: {},
    prepare() {
      for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, 'tmp', d), { recursive: true });
      writeConf(conf, 'nginx.conf', { DIR: dir, PORT: l.ports.api, SERVERS: apis.map((a) => `server 127.0.0.1:${a.port};`) });
    },
    ready: () => httpReady(`http://127.0.0.1:${l.ports.api}/readyz`),
    readyTimeoutMs: 30_000,
    stopTimeoutMs: 10_000,
  };
}

/** The dispatcher's target for a path's writers: one address, or the list it balances over (round robin). */
export const writerTarget = (ws: readonly { port: number }[]) =>
  ws.length === 1 ? `127.0.0.1:${ws[0]!.port}` : `ipv4:${ws.map((w) => `127.0.0.1:${w.port}`).join(',')}`;

/** Where each service serves /metrics, by the job name Prometheus gives it (the dashboards' `service` label is the same). */
export function metricsTargets(
  l: StackLayout,
  writers: readonly { name: string; metricsPort: number }[] = [...writerReplicas(l, 'kafka', 1), ...writerReplicas(l, 'rabbitmq', 1)],
  apis: readonly { name: string; port: number }[] = apiReplicas(l, 0),
): Record<string, string> {
  const p = l.ports;
  return {
    ...Object.fromEntries(apis.map((a) => [a.name, `127.0.0.1:${a.port}`])),
    dispatcher: `127.0.0.1:${p.dispatcher}`,
    ...Object.fromEntries(writers.map((w) => [w.name, `127.0.0.1:${w.metricsPort}`])),
    'kafka-consumer': `127.0.0.1:${p.kafkaConsumer}`,
    'rabbitmq-consumer': `127.0.0.1:${p.rabbitmqConsumer}`,
  };
}

/**
 * Prometheus (Debian's package) on loopback, scraping every service's
 * /metrics every 5 s, its data in the stack's folder (from the stack's start;
 * two days at most). The dashboards' queries (deploy/grafana) run against it
 * in the tests.
 */
function prometheus(
  l: StackLayout,
  writers: readonly { name: string; metricsPort: number }[],
  apis: readonly { name: string; port: number }[],
): Component {
  const dir = join(l.dir, 'prometheus');
  return {
    name: 'prometheus',
    kind: 'tool',
    // Prometheus 3.5 from Debian forky (stack/src/roots.ts)
    ...inRoot('forky', '/usr/bin/prometheus', [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=127.0.0.1:${l.ports.prometheus}`,
      '--log.level=warn',
    ]),
    env: {},
    prepare() {
      // A stack's series begin with it: left from an earlier run, a counter's last value would mix with the new process's.
      rmSync(join(dir, 'data'), { recursive: true, force: true });
      mkdirSync(join(dir, 'data'), { recursive: true });
      const jobs = Object.entries(metricsTargets(l, writers, apis)).flatMap(([job, target]) => [
        `- job_name: ${job}`,
        '  static_configs:',
        `    - targets: ['${target}']`,
      ]);
      writeConf(join(dir, 'prometheus.yml'), 'prometheus.yml', { JOBS: jobs });
    },
    ready: () => httpReady(`http://127.0.0.1:${l.ports.prometheus}/-/ready`),
    readyTimeoutMs: 60_000,
    stopTimeoutMs: 10_000,
    background: true,
  };
}
