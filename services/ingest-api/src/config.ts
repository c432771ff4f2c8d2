import { DOMAIN_NAMES, type Domain } from '@tweets/domain';
import { drainSpec } from '@tweets/http';
import { int, loadConfig, oneOf, str, type ConfigOf, type Env } from '@tweets/runtime';
import { valkeySpec } from '@tweets/store';

export const spec = (d: Domain) => ({
  /** The domain this service runs (read first, by domainFromEnv: it sets the defaults below). */
  DOMAIN: oneOf(DOMAIN_NAMES, { default: 'weather' }),
  HOST: str({ default: '127.0.0.1' }),
  PORT: int({ default: 8080, min: 1, max: 65535 }),
  ...drainSpec,
  DISPATCHER_URL: str({ default: 'http://127.0.0.1:8081', pattern: /^https?:\/\/[^/]+$/ }),
  /** The whole forward, dispatcher and brokers included, must answer within this; else 503. */
  FORWARD_TIMEOUT_MS: int({ default: 1500, min: 50, max: 60_000 }),
  /**
   * batch: tweets accepted together go to the dispatcher in one request (a protobuf WeatherTweetBatch).
   * single: one JSON request per tweet (the naive baseline the benchmark measures).
   */
  FORWARD_MODE: oneOf(['batch', 'single'] as const, { default: 'batch' }),
  /** How long the first tweet of a batch waits for others; 0: only those of the same event-loop turn. */
  FORWARD_LINGER_MS: int({ default: 0, min: 0, max: 1000 }),
  /** Batches to the dispatcher in flight at once; while they are, the next batch grows. */
  FORWARD_MAX_BATCHES: int({ default: 4, min: 1, max: 1024 }),
  /** Most tweets in one batch. */
  FORWARD_BATCH_MAX: int({ default: 500, min: 1, max: 10_000 }),
  /** Keep-alive connections to the dispatcher, reused by all requests. */
  DISPATCHER_CONNECTIONS: int({ default: 32, min: 1, max: 1024 }),
  /** Tweets being forwarded at once; beyond this the API answers 503 at once, so memory stays bounded. */
  MAX_IN_FLIGHT: int({ default: 4096, min: 1, max: 100_000 }),
  /** A tweet is under 100 bytes; anything over this is refused with 413. */
  BODY_LIMIT_BYTES: int({ default: 1024, min: 64, max: 1 << 20 }),
  /** The read-only Valkey user: /stats never writes. */
  ...valkeySpec('default', d.keyPrefix),
});

export type ApiConfig = ConfigOf<ReturnType<typeof spec>>;

export const readConfig = (d: Domain, env: Env = process.env): ApiConfig => loadConfig(spec(d), env);
