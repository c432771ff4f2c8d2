import { BROKERS, type BrokerPath, type Domain } from '@tweets/domain';
import { hostPort, int, loadConfig, oneOf, str, type ConfigOf, type Env, type Reader } from '@tweets/kit';

/** The env name of the writer address of a broker path: KAFKA_WRITER_ADDR, RABBITMQ_WRITER_ADDR. */
export const writerAddrName = (path: BrokerPath) => `${path.toUpperCase()}_WRITER_ADDR` as const;

const writerAddrs = Object.fromEntries(BROKERS.map((p, i) => [writerAddrName(p), hostPort({ default: `127.0.0.1:${50051 + i}` })])) as Record<
  ReturnType<typeof writerAddrName>,
  Reader<{ host: string; port: number }>
>;

export const spec = {
  HOST: str({ default: '127.0.0.1' }),
  PORT: int({ default: 8081, min: 1, max: 65535 }),
  /** Which brokers every item goes to: `both` (every path of the domain; the seed compares them) or one path. */
  ROUTE: oneOf(['both', ...BROKERS] as const, { default: 'both' }),
  ...writerAddrs,
  /** Deadline of one call or streamed batch to a writer; the API's own timeout is longer. */
  RPC_DEADLINE_MS: int({ default: 1200, min: 50, max: 60_000 }),
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

/** The address of a path's writer. */
export function writerAddr(cfg: DispatcherConfig, path: BrokerPath): string {
  const a = (cfg as unknown as Record<string, { host: string; port: number }>)[writerAddrName(path)]!;
  return `${a.host}:${a.port}`;
}

/** The paths a route sends to, for a domain. */
export function routeOf(d: Domain, route: DispatcherConfig['ROUTE']): readonly BrokerPath[] {
  return route === 'both' ? d.paths : [route];
}
