import { hostPort, str } from '@tweets/kit';

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
