import { hostPort, str, type ConfigOf, type Logger } from '@tweets/kit';
import type { Redis } from 'iovalkey';
import { connectValkey } from './client.js';

/** The Valkey settings every service that talks to Valkey reads from its env. */
export function valkeySpec(defaultUser: string) {
  return {
    VALKEY_ADDR: hostPort({ default: '127.0.0.1:16379' }),
    VALKEY_USERNAME: str({ default: defaultUser }),
    VALKEY_PASSWORD: str({ default: '', secret: true }),
    /** The domain's key prefix: `wt` for weather tweets. */
    VALKEY_PREFIX: str({ default: 'wt', pattern: /^[a-z0-9_-]{1,16}$/ }),
  };
}

export type ValkeyConfig = ConfigOf<ReturnType<typeof valkeySpec>>;

/** The service's one Valkey connection, from its config; connection errors are logged at debug. */
export function connectFromConfig(cfg: ValkeyConfig, name: string, log: Logger): Redis {
  return connectValkey(
    { ...cfg.VALKEY_ADDR, username: cfg.VALKEY_USERNAME, password: cfg.VALKEY_PASSWORD, name },
    (err) => log.debug({ err: { message: err.message } }, 'valkey connection error'),
  );
}
