import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface Ports {
  api: number;
  dispatcher: number;
  kafkaWriter: number;
  rabbitmqWriter: number;
  kafkaConsumer: number;
  rabbitmqConsumer: number;
  valkey: number;
  kafka: number;
  kafkaController: number;
  amqp: number;
  rabbitmqDist: number;
  epmd: number;
  /** The writers' /metrics (their gRPC ports serve gRPC only). */
  kafkaWriterMetrics: number;
  rabbitmqWriterMetrics: number;
  prometheus: number;
  /** The live bar chart page (stack/src/view.ts). */
  view: number;
}

/**
 * Two stacks can run side by side: `local` (what `npm start` runs, the API
 * on 8080) and `test` (what `npm test` runs). Ports avoid the brokers'
 * usual ones so a system Valkey, RabbitMQ or Kafka is never touched, and
 * stay below Linux's ephemeral range (32768-60999): a benchmark's thousands
 * of client connections take ports from that range, and a writer once failed
 * to bind 50252 after one.
 */
const PORTS: Record<string, Ports> = {
  local: {
    api: 8080, dispatcher: 8081, kafkaWriter: 8083, rabbitmqWriter: 8084, kafkaConsumer: 8091, rabbitmqConsumer: 8092,
    valkey: 16379, kafka: 19092, kafkaController: 19093, amqp: 15673, rabbitmqDist: 15674, epmd: 15675,
    kafkaWriterMetrics: 8093, rabbitmqWriterMetrics: 8094, prometheus: 19090, view: 8088,
  },
  bench: {
    api: 28080, dispatcher: 28081, kafkaWriter: 28083, rabbitmqWriter: 28084, kafkaConsumer: 28091, rabbitmqConsumer: 28092,
    valkey: 16579, kafka: 19292, kafkaController: 19293, amqp: 15873, rabbitmqDist: 15874, epmd: 15875,
    kafkaWriterMetrics: 28093, rabbitmqWriterMetrics: 28094, prometheus: 19290, view: 28088,
  },
  test: {
    api: 18080, dispatcher: 18081, kafkaWriter: 18083, rabbitmqWriter: 18084, kafkaConsumer: 18091, rabbitmqConsumer: 18092,
    valkey: 16479, kafka: 19192, kafkaController: 19193, amqp: 15773, rabbitmqDist: 15774, epmd: 15775,
    kafkaWriterMetrics: 18093, rabbitmqWriterMetrics: 18094, prometheus: 19190, view: 18088,
  },
};

export interface Secrets {
  /** Valkey's `default` user: the administrator, used by no service. */
  valkeyAdminPassword: string;
  valkeyWriterPassword: string;
  valkeyReaderPassword: string;
  rabbitmqUser: string;
  rabbitmqPassword: string;
}

export interface StackLayout {
  name: string;
  /** Everything the stack writes: data, logs, configs, state. Gitignored. */
  dir: string;
  logs: string;
  stateFile: string;
  /** Files that hold one secret each, handed to services as *_FILE. */
  secretsDir: string;
  /** Kafka's jars, shared by every stack. */
  kafkaLibs: string;
  ports: Ports;
  apiUrl: string;
}

export function stackNames(): string[] {
  return Object.keys(PORTS);
}

export function layout(name = 'local'): StackLayout {
  const ports = PORTS[name];
  if (!ports) throw new Error(`unknown stack ${JSON.stringify(name)}; known: ${stackNames().join(', ')}`);
  const dir = join(ROOT, '.data', name);
  return {
    name,
    dir,
    logs: join(dir, 'logs'),
    stateFile: join(dir, 'state.json'),
    secretsDir: join(dir, 'secrets'),
    kafkaLibs: join(ROOT, '.data', 'kafka-libs'),
    ports,
    apiUrl: `http://127.0.0.1:${ports.api}`,
  };
}

/** The stack's credentials, made at random the first time and kept in its folder (mode 0600). */
export function secrets(l: StackLayout): Secrets {
  const file = join(l.secretsDir, 'secrets.json');
  const fresh = (): Secrets => ({
    valkeyAdminPassword: randomBytes(18).toString('base64url'),
    valkeyWriterPassword: randomBytes(18).toString('base64url'),
    valkeyReaderPassword: randomBytes(18).toString('base64url'),
    rabbitmqUser: 'tweets',
    rabbitmqPassword: randomBytes(18).toString('base64url'),
  });
  const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>) : {};
  const s: Secrets = { ...fresh(), ...kept };
  if (Object.keys(kept).length === Object.keys(s).length) return s;
  // First use, or a secret added since: write them all (mode 0600).
  mkdirSync(l.secretsDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(s, null, 2), { mode: 0o600 });
  const one = (n: string, v: string) => {
    writeFileSync(join(l.secretsDir, n), v, { mode: 0o600 });
    chmodSync(join(l.secretsDir, n), 0o600);
  };
  one('valkey-writer-password', s.valkeyWriterPassword);
  one('valkey-reader-password', s.valkeyReaderPassword);
  one('rabbitmq-url', `amqp://${s.rabbitmqUser}:${s.rabbitmqPassword}@127.0.0.1:${l.ports.amqp}`);
  return s;
}

export function secretFile(l: StackLayout, name: 'valkey-writer-password' | 'valkey-reader-password' | 'rabbitmq-url'): string {
  secrets(l);
  return join(l.secretsDir, name);
}
