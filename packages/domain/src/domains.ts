import type { Domain } from './define.js';
import { blackfriday } from './blackfriday.js';
import { weather } from './weather.js';

/** Every domain the pipeline runs, by name: each service runs one, chosen by DOMAIN (default weather). */
export const domains = { weather, blackfriday } as const satisfies Record<string, Domain>;
export type DomainName = keyof typeof domains;
export const DOMAIN_NAMES = Object.keys(domains) as DomainName[];

/** The domain named by DOMAIN in the environment (weather when unset); an unknown name stops the service at start. */
export function domainFromEnv(env: Record<string, string | undefined> = process.env): Domain {
  const name = env.DOMAIN ?? 'weather';
  if (!Object.hasOwn(domains, name)) throw new Error(`DOMAIN must be one of ${DOMAIN_NAMES.join(', ')}; got ${JSON.stringify(name)}`);
  return domains[name as DomainName];
}
