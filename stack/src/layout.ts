import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STACK_PORTS, type StackName, type StackPorts } from './ports.js';

/** The repository's root folder. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export type Ports = StackPorts;

export interface Secrets {
  /** Valkey's `default` user: the administrator, used by no service. */
  valkeyAdminPassword: string;
  valkeyWriterPassword: string;
  valkeyReaderPassword: string;
  rabbitmqUser: string;
  rabbitmqPassword: string;
}

/** What the supervisor needs of what it runs (a stack, or the Kubernetes node): where its logs and state go. */
export interface RunLayout {
  name: string;
  /** Everything it writes: data, logs, configs, state. Gitignored. */
  dir: string;
  logs: string;
  stateFile: string;
}

export interface StackLayout extends RunLayout {
  /** Files that hold one secret each, handed to services as *_FILE. */
  secretsDir: string;
  /** Kafka's jars, shared by every stack. */
  kafkaLibs: string;
  ports: Ports;
  apiUrl: string;
}

export function stackNames(): string[] {
  return Object.keys(STACK_PORTS);
}

export function layout(name = 'local'): StackLayout {
  const ports: StackPorts | undefined = STACK_PORTS[name as StackName];
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
  if (Object.keys(kept).length === Object.keys(s).length && SECRET_FILES.every((n) => existsSync(join(l.secretsDir, n)))) return s;
  // First use, or a secret added since: write them all (mode 0600).
  mkdirSync(l.secretsDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(s, null, 2), { mode: 0o600 });
  const one = (n: string, v: string) => {
    writeFileSync(join(l.secretsDir, n), v, { mode: 0o600 });
    chmodSync(join(l.secretsDir, n), 0o600);
  };
  one('valkey-writer-password', s.valkeyWriterPassword);
  one('valkey-reader-password', s.valkeyReaderPassword);
  one('rabbitmq-url', amqpUrl(s, l.ports.amqp));
  // the replicated shape's three RabbitMQ nodes, comma-separated: the clients connect to the next one when theirs is lost
  one('rabbitmq-urls', [l.ports.amqp, l.ports.amqp2, l.ports.amqp3].map((port) => amqpUrl(s, port)).join(','));
  return s;
}

/** The URL of a RabbitMQ node of the stack on loopback, with the application's user. */
export const amqpUrl = (s: Secrets, port: number) => `amqp://${s.rabbitmqUser}:${s.rabbitmqPassword}@127.0.0.1:${port}`;

/** The files the services read their secrets from (VALKEY_PASSWORD_FILE, RABBITMQ_URL_FILE). */
const SECRET_FILES = ['valkey-writer-password', 'valkey-reader-password', 'rabbitmq-url', 'rabbitmq-urls'] as const;

export function secretFile(l: StackLayout, name: (typeof SECRET_FILES)[number]): string {
  secrets(l);
  return join(l.secretsDir, name);
}
