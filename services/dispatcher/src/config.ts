import { drainSpec } from '@tweets/http';
import { BROKERS, DOMAIN_NAMES, type BrokerPath, type Domain } from '@tweets/domain';
import { grpcTarget, int, loadConfig, oneOf, str, type ConfigOf, type Env, type Reader } from '@tweets/runtime';

/** The env name of the writer address of a broker path: KAFKA_WRITER_ADDR, RABBITMQ_WRITER_ADDR. */
export const writerAddrName = (path: BrokerPath) => `${path.toUpperCase()}_WRITER_ADDR` as const;

/**
 * A path's writers, as a gRPC target: `host:port` for one, a name that
 * resolves to every replica for several (`dns:///writer-kafka.tweets.svc.cluster.local:50051`,
 * a Kubernetes headless Service), or a list (`ipv4:127.0.0.1:50051,127.0.0.1:50061`).
 */
const writerAddrs = Object.fromEntries(
  BROKERS.map((p, i) => [writerAddrName(p), grpcTarget({ default: `127.0.0.1:${50051 + i}` })]),
) as Record<ReturnType<typeof writerAddrName>, Reader<string>>;

export const spec = {
  /** The domain this service runs (read first, by domainFromEnv: it sets the defaults below). */
  DOMAIN: oneOf(DOMAIN_NAMES, { default: 'weather' }),
  HOST: str({ default: '127.0.0.1' }),
  PORT: int({ default: 8081, min: 1, max: 65535 }),
  ...drainSpec,
  /** Which brokers every item goes to: `both` (every path of the domain; the seed compares them) or one path. */
  ROUTE: oneOf(['both', ...BROKERS] as const, { default: 'both' }),
  ...writerAddrs,
  /** Deadline of one call or streamed batch to a writer; the API's own timeout is longer. */
  RPC_DEADLINE_MS: int({ default: 1200, min: 50, max: 60_000 }),
  /**
   * Streams open to each path's writers. A stream stays on one writer replica,
   * and each new one goes to the next: with at least as many streams as
   * replicas, batches spread over all of them.
   */
  WRITER_STREAMS: int({ default: 4, min: 1, max: 64 }),
  /**
   * A stream is replaced after this long (its batches in flight are answered
   * first), so that replicas added since get streams too; 0 keeps them.
   */
  WRITER_STREAM_MAX_AGE_MS: int({ default: 10_000, min: 0, max: 86_400_000 }),
  /**
   * For single items (POST /v1/tweets):
   * batch: items that arrive together go in one batch call per writer.
   * unary: one call of the seed's rpc per item and writer (the naive baseline the benchmark measures).
   */
  DISPATCH_MODE: oneOf(['batch', 'unary'] as const, { default: 'batch' }),
  /** Most single items coalesced into one batch call. */
  BATCH_MAX: int({ default: 500, min: 1, max: 10_000 }),
  /** Items in flight beyond this are refused at once (503): memory stays bounded. */
  MAX_PENDING: int({ default: 10_000, min: 1, max: 1_000_000 }),
  BODY_LIMIT_BYTES: int({ default: 4096, min: 64, max: 1 << 20 }),
  /** Largest batch body (POST /v1/tweets/batch); a tweet is about 60 bytes in protobuf. */
  BATCH_BODY_LIMIT_BYTES: int({ default: 1 << 20, min: 1024, max: 64 << 20 }),
};

export type DispatcherConfig = ConfigOf<typeof spec>;

export const readConfig = (env: Env = process.env): DispatcherConfig => loadConfig(spec, env);

/** The gRPC target of a path's writers. */
export function writerAddr(cfg: DispatcherConfig, path: BrokerPath): string {
  return (cfg as unknown as Record<string, string>)[writerAddrName(path)]!;
}

/** How the dispatcher holds its links to the writers. */
export const linkOptions = (cfg: DispatcherConfig) => ({
  deadlineMs: cfg.RPC_DEADLINE_MS,
  streams: cfg.WRITER_STREAMS,
  streamMaxAgeMs: cfg.WRITER_STREAM_MAX_AGE_MS,
});

/** The paths a route sends to, for a domain. */
export function routeOf(d: Domain, route: DispatcherConfig['ROUTE']): readonly BrokerPath[] {
  if (route !== 'both' && !d.paths.includes(route))
    throw new Error(`ROUTE ${route} is not a path of the ${d.name} domain (${d.paths.join(', ')})`);
  return route === 'both' ? d.paths : [route];
}
