import { randomUUID } from 'node:crypto';
import type { Domain } from '@tweets/domain';
import type { Logger, Registry } from '@tweets/runtime';
import { contract, grpc, HealthImplementation, writerServiceDefinition } from '@tweets/wire';
import type { Publisher } from './publisher.js';
import { createWriter, type Writer } from './writer.js';

/** Health that follows the broker connection, checked every 500 ms: SERVING while the publisher is ready. */
function followBroker(health: HealthImplementation, serviceName: string, publisher: Publisher) {
  const set = (status: 'SERVING' | 'NOT_SERVING') => {
    health.setStatus('', status);
    health.setStatus(serviceName, status);
  };
  let serving: boolean | undefined;
  const follow = () => {
    const now = publisher.ready();
    if (now === serving) return;
    serving = now;
    set(now ? 'SERVING' : 'NOT_SERVING');
  };
  follow();
  const timer = setInterval(follow, 500);
  timer.unref();
  return () => {
    clearInterval(timer);
    set('NOT_SERVING');
  };
}

/** Logs what was published every 10 s; returns the function that stops it. */
function logPublished(writer: Writer, log: Logger) {
  const timer = setInterval(() => {
    const ack = writer.published.latency.take();
    if (ack) log.info({ calls: ack.count, tweets: writer.published.items, ack }, 'published in the last 10 s');
    writer.published.items = 0;
  }, 10_000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Shuts the server down once its calls end. Unary calls in flight end within the publish timeout; after
 * `idleCloseMs`, what is left open is an idle connection (a health probe's, a client that keeps its channel)
 * that would hold the shutdown up, and it is closed.
 */
function shutdown(server: grpc.Server, idleCloseMs: number, log: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      log.info('idle connections still open; closing them');
      server.forceShutdown();
      resolve();
    }, idleCloseMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}

export interface WriterServerOptions {
  domain: Domain;
  publisher: Publisher;
  host: string;
  port: number;
  log: Logger;
  /** At stop, how long calls may take to end before the connections still open are closed. */
  idleCloseMs: number;
  /** Connections older than this get a GOAWAY, so clients re-resolve and rebalance; 0 or absent: never. */
  maxConnectionAgeMs?: number;
  maxConnectionAgeGraceMs?: number;
  /** Where the writer records its publishes; served by the caller (startHealthServer). */
  metrics?: Registry;
}

/**
 * The writer's gRPC server: the domain's service (the seed's rpc plus the batch
 * and stream extensions) and grpc.health.v1, which follows the broker
 * connection (NOT_SERVING while it is down). Resolves once it listens.
 */
export async function startWriterServer(o: WriterServerOptions) {
  const c = contract(o.domain);
  const writer = createWriter({
    publisher: o.publisher,
    rpc: o.domain.proto.rpc,
    statusField: o.domain.proto.statusField,
    item: o.domain.item,
    log: o.log,
    metrics: o.metrics,
  });
  const health = new HealthImplementation({ '': 'NOT_SERVING', [c.serviceName]: 'NOT_SERVING' });
  const server = new grpc.Server({
    'grpc.keepalive_permit_without_calls': 1,
    ...(o.maxConnectionAgeMs
      ? { 'grpc.max_connection_age_ms': o.maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': o.maxConnectionAgeGraceMs ?? 120_000 }
      : {}),
  });
  health.addToServer(server);
  server.addService(writerServiceDefinition(c, randomUUID), writer.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${o.host}:${o.port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const stopHealth = followBroker(health, c.serviceName, o.publisher);
  const stopLog = logPublished(writer, o.log);
  o.log.info({ port, broker: o.publisher.broker }, 'gRPC server listening');
  return {
    port,
    async stop() {
      stopLog();
      stopHealth();
      await writer.drain();
      o.log.info('streams drained; shutting the gRPC server down');
      await shutdown(server, o.idleCloseMs, o.log);
    },
  };
}
