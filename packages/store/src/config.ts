import { hostPort, hostPorts, int, str, type ConfigOf, type Logger } from '@tweets/runtime';
import type { Redis } from 'iovalkey';
import { connectValkey } from './client.js';
import { DEFAULT_DEDUP_SLICES, DEFAULT_DEDUP_WINDOW_SEC } from './store.js';

/** The Valkey settings every service that talks to Valkey reads from its env. */
export function valkeySpec(defaultUser: string, defaultPrefix: string) {
  return {
    VALKEY_ADDR: hostPort({ default: '127.0.0.1:16379' }),
    /**
     * Valkey's sentinels, host:port comma-separated: when set, the service asks them for the primary named
     * VALKEY_PRIMARY_NAME, and follows it through a failover (VALKEY_ADDR is then unused).
     */
    VALKEY_SENTINELS: hostPorts(),
    VALKEY_PRIMARY_NAME: str({ default: 'tweets', pattern: /^[A-Za-z0-9_.-]{1,64}$/ }),
    VALKEY_USERNAME: str({ default: defaultUser }),
    VALKEY_PASSWORD: str({ default: '', secret: true }),
    /** The domain's key prefix (its definition's, `wt` for weather tweets, unless set). */
    VALKEY_PREFIX: str({ default: defaultPrefix, pattern: /^[a-z0-9_-]{1,16}$/ }),
  };
}

export type ValkeyConfig = ConfigOf<ReturnType<typeof valkeySpec>>;

/**
 * The service's one Valkey connection, from its config. The first error of an
 * outage is logged at warn and the connection's return at info (the retries
 * in between at debug), so a connection that does not come back shows.
 */
export function connectFromConfig(cfg: ValkeyConfig, name: string, log: Logger): Redis {
  let up = false;
  const where =
    cfg.VALKEY_SENTINELS.length > 0 ? { sentinels: cfg.VALKEY_SENTINELS, primaryName: cfg.VALKEY_PRIMARY_NAME } : cfg.VALKEY_ADDR;
  const redis = connectValkey({ ...where, username: cfg.VALKEY_USERNAME, password: cfg.VALKEY_PASSWORD, name }, (err) => {
    if (up) log.warn({ err: { message: err.message } }, 'valkey connection lost; reconnecting');
    else log.debug({ err: { message: err.message } }, 'valkey connection error');
    up = false;
  });
  redis.on('ready', () => {
    up = true;
    log.info('valkey connection ready');
  });
  return redis;
}

/** Whether the consumers wait for Valkey's replicas (WAIT) before a batch counts as applied; docs/valkey.md. */
export function replicationSpec() {
  return {
    /** Replicas that must confirm each batch; 0 (the default): replication stays asynchronous. */
    VALKEY_WAIT_REPLICAS: int({ default: 0, min: 0, max: 5 }),
    /** How long a batch waits for them; past it the batch fails and is redelivered (a no-op where applied). */
    VALKEY_WAIT_TIMEOUT_MS: int({ default: 1000, min: 10, max: 60_000 }),
  };
}

/** The dedup window's settings, for the services that apply items (the consumers); docs/valkey.md sizes them. */
export function dedupSpec() {
  return {
    /** Seconds an applied id is remembered at least: a retry or redelivery later than this counts again. */
    DEDUP_WINDOW_SEC: int({ default: DEFAULT_DEDUP_WINDOW_SEC, min: 10, max: 7 * 86_400 }),
    /** Buckets the window is cut into: Valkey keeps at most one bucket beyond the window, and looks an id up in each. */
    DEDUP_SLICES: int({ default: DEFAULT_DEDUP_SLICES, min: 1, max: 60 }),
  };
}
