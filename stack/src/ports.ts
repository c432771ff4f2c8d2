/**
 * The port plan: every port any part of the project opens, in one table.
 *
 * The local, test and bench stacks run side by side (`npm start`'s stack stays up while `npm test` runs its
 * own, and a benchmark may run beside both), and so may the image containers, the local registry, the
 * Kubernetes validation's API server and the Kubernetes node of `npm run cluster`. So no two owners share a
 * port: `planConflicts()` is empty, which a unit test checks. Every port is above 1024 and below Linux's
 * ephemeral range (32768-60999), where a benchmark's thousands of client connections take their ports (a
 * writer once failed to bind 50252 after one). Servers listen on 127.0.0.1, except the cluster's API server
 * and kubelet, which pods reach on the node's private bridge (docs/local-stack.md).
 */

/** The ports of one stack: its services, brokers and tools. */
export interface StackPorts {
  api: number;
  dispatcher: number;
  kafkaWriter: number;
  rabbitmqWriter: number;
  /** The live bar chart page (stack/src/view.ts). */
  view: number;
  kafkaConsumer: number;
  rabbitmqConsumer: number;
  /** The writers' /metrics (their gRPC ports serve gRPC only). */
  kafkaWriterMetrics: number;
  rabbitmqWriterMetrics: number;
  /** The benchmark's bare endpoint (bench/src/bare.ts), the floor every scenario is compared with. */
  bare: number;
  amqp: number;
  rabbitmqDist: number;
  epmd: number;
  /** The replicated shape's RabbitMQ nodes 2 and 3 (`npm start -- --replicated`): AMQP and Erlang distribution each. */
  amqp2: number;
  rabbitmqDist2: number;
  amqp3: number;
  rabbitmqDist3: number;
  valkey: number;
  /** The replicated shape's Valkey replica and its three sentinels. */
  valkeyReplica: number;
  sentinel1: number;
  sentinel2: number;
  sentinel3: number;
  kafka: number;
  kafkaController: number;
  /** The replicated shape's Kafka nodes 2 and 3 (`npm start -- --replicated`): each a broker and a controller. */
  kafka2: number;
  kafkaController2: number;
  kafka3: number;
  kafkaController3: number;
  prometheus: number;
}

/** A stack's ports from four bases: its services', RabbitMQ's (AMQP, distribution, epmd), Valkey's and Kafka's (Prometheus one below). */
function stackPorts(services: number, rabbitmq: number, valkey: number, kafka: number): StackPorts {
  const s = (offset: number) => services + offset;
  return {
    api: s(0),
    dispatcher: s(1),
    kafkaWriter: s(3),
    rabbitmqWriter: s(4),
    view: s(8),
    kafkaConsumer: s(11),
    rabbitmqConsumer: s(12),
    kafkaWriterMetrics: s(13),
    rabbitmqWriterMetrics: s(14),
    bare: s(19),
    amqp: rabbitmq,
    rabbitmqDist: rabbitmq + 1,
    epmd: rabbitmq + 2,
    amqp2: rabbitmq + 3,
    rabbitmqDist2: rabbitmq + 4,
    amqp3: rabbitmq + 5,
    rabbitmqDist3: rabbitmq + 6,
    valkey,
    valkeyReplica: valkey + 1,
    sentinel1: valkey + 2,
    sentinel2: valkey + 3,
    sentinel3: valkey + 4,
    kafka,
    kafkaController: kafka + 1,
    kafka2: kafka + 2,
    kafkaController2: kafka + 3,
    kafka3: kafka + 4,
    kafkaController3: kafka + 5,
    prometheus: kafka - 2,
  };
}

/**
 * The stacks. `local` is what `npm start` runs (the API on 8080, the live view on 8088, Prometheus on
 * 19090); `test` what `npm test` runs; `bench` the benchmark's. The brokers avoid their usual ports, so a
 * system Valkey, RabbitMQ or Kafka is never touched.
 */
export const STACK_PORTS = {
  local: stackPorts(8080, 15673, 16379, 19092),
  test: stackPorts(18080, 15773, 16479, 19192),
  bench: stackPorts(28080, 15873, 16579, 19292),
} as const satisfies Record<string, StackPorts>;

export type StackName = keyof typeof STACK_PORTS;

/** Replicas of a writer (`--writers N`, up to 4) and APIs behind NGINX (`--apis N`, up to 3) take the ports 100 apart. */
export const REPLICA_STEP = 100;
export const MAX_WRITERS = 4;
export const MAX_APIS = 3;

/** The image containers of the image test: the service ports of the test stack's services, run from their images beside it. */
const CONTAINER_SERVICES = [
  'api',
  'dispatcher',
  'kafkaWriter',
  'rabbitmqWriter',
  'kafkaConsumer',
  'rabbitmqConsumer',
  'kafkaWriterMetrics',
  'rabbitmqWriterMetrics',
] as const;
export const CONTAINER_PORTS = Object.fromEntries(CONTAINER_SERVICES.map((k) => [k, stackPorts(20080, 0, 0, 0)[k]])) as Pick<
  StackPorts,
  (typeof CONTAINER_SERVICES)[number]
>;

/** The local OCI registry (CNCF Distribution; stack/src/registry.ts). */
export const REGISTRY_PORT = 15000;

/** The Kubernetes validation's etcd and API server (stack/src/k8s.ts). */
export const VALIDATION_PORTS = { etcd: 12379, etcdPeer: 12380, apiserver: 16443 } as const;

/**
 * The Kubernetes node of `npm run cluster`: its control plane, node agents and the entry URL. The API
 * server and the kubelet listen on the node's bridge address (pods reach them there); the rest on loopback.
 */
export const CLUSTER_PORTS = {
  etcd: 22379,
  etcdPeer: 22380,
  apiserver: 26443,
  kubelet: 10250,
  kubeletHealthz: 10248,
  kubeProxyMetrics: 10249,
  kubeProxyHealthz: 10256,
  controllerManager: 10257,
  scheduler: 10259,
  /** http://127.0.0.1:<entry>: the ingress, as a user reaches the system. */
  entry: 24080,
} as const;

/** Throwaway Valkeys of the replica benchmark (bench/src/replica.ts), and Locust's web UI (npm run locust -- --ui). */
export const TOOL_PORTS = { replicaPrimary: 16781, replicaReplica: 16782, locustUi: 8089 } as const;

/** One owner's ports: what opens them and, per port, what it is. */
export interface PlanEntry {
  owner: string;
  ports: { port: number; what: string }[];
}

const entriesOf = (owner: string, ports: Record<string, number>): PlanEntry => ({
  owner,
  ports: Object.entries(ports).map(([what, port]) => ({ port, what })),
});

/** A stack's ports with every replica's: writers and their metrics, and the APIs behind NGINX. */
function stackEntry(name: string, p: StackPorts): PlanEntry {
  const e = entriesOf(`stack ${name}`, { ...p });
  for (let i = 1; i < MAX_WRITERS; i++) {
    for (const k of ['kafkaWriter', 'rabbitmqWriter', 'kafkaWriterMetrics', 'rabbitmqWriterMetrics'] as const)
      e.ports.push({ port: p[k] + REPLICA_STEP * i, what: `${k} replica ${i + 1}` });
  }
  for (let i = 1; i <= MAX_APIS; i++) e.ports.push({ port: p.api + REPLICA_STEP * i, what: `api ${i} behind NGINX` });
  return e;
}

/** Every owner and its ports. */
export function portPlan(): PlanEntry[] {
  return [
    ...Object.entries(STACK_PORTS).map(([name, p]) => stackEntry(name, p)),
    entriesOf('image containers', CONTAINER_PORTS),
    entriesOf('registry', { registry: REGISTRY_PORT }),
    entriesOf('k8s validation', VALIDATION_PORTS),
    entriesOf('cluster', CLUSTER_PORTS),
    entriesOf('tools', TOOL_PORTS),
  ];
}

/** Every port two owners (or one owner twice) would both open, and every port outside 1025-32767: empty when the plan holds. */
export function planConflicts(plan: PlanEntry[] = portPlan()): string[] {
  const seen = new Map<number, string>();
  const out: string[] = [];
  for (const e of plan) {
    for (const { port, what } of e.ports) {
      const here = `${e.owner}: ${what}`;
      if (!Number.isInteger(port) || port <= 1024 || port >= 32768) out.push(`${here} is ${port}, outside 1025-32767`);
      const other = seen.get(port);
      if (other) out.push(`${port}: ${other} and ${here}`);
      else seen.set(port, here);
    }
  }
  return out;
}
