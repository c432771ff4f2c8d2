import { readFileSync } from 'node:fs';

/**
 * Config from the environment, checked once at start. Every problem is
 * collected and reported together, naming the variable and what it must be,
 * so a bad deployment fails fast with one clear message. A secret may come
 * from NAME or from a file named by NAME_FILE (Kubernetes secret mounts).
 */

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface Reader<T> {
  read(name: string, env: Env): T;
  /** Secrets are never echoed back in messages. */
  secret?: boolean;
}

class Problem extends Error {}

function raw(name: string, env: Env, secret: boolean): string | undefined {
  const file = env[`${name}_FILE`];
  if (secret && file) {
    try {
      return readFileSync(file, 'utf8').trimEnd();
    } catch (err) {
      throw new Problem(`${name}_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
  }
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
}

export function str(opts: { default?: string; secret?: boolean; pattern?: RegExp } = {}): Reader<string> {
  return {
    secret: opts.secret ?? false,
    read(name, env) {
      const v = raw(name, env, opts.secret ?? false) ?? opts.default;
      if (v === undefined) throw new Problem(`${name}: is required${opts.secret ? ` (or ${name}_FILE)` : ''}`);
      if (opts.pattern && !opts.pattern.test(v)) {
        throw new Problem(`${name}: must match ${opts.pattern}${opts.secret ? '' : `; got ${JSON.stringify(v)}`}`);
      }
      return v;
    },
  };
}

export function int(opts: { default?: number; min?: number; max?: number } = {}): Reader<number> {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  return {
    read(name, env) {
      const v = raw(name, env, false);
      if (v === undefined) {
        if (opts.default === undefined) throw new Problem(`${name}: is required`);
        return opts.default;
      }
      const n = Number(v);
      if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
        throw new Problem(`${name}: must be an integer from ${min} to ${max}; got ${JSON.stringify(v)}`);
      }
      return n;
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[], opts: { default?: T } = {}): Reader<T> {
  return {
    read(name, env) {
      const v = raw(name, env, false) ?? opts.default;
      if (v === undefined) throw new Problem(`${name}: is required, one of ${values.join(', ')}`);
      if (!(values as readonly string[]).includes(v)) {
        throw new Problem(`${name}: must be one of ${values.join(', ')}; got ${JSON.stringify(v)}`);
      }
      return v as T;
    },
  };
}

/** host:port, as services and brokers are addressed. */
export function hostPort(opts: { default?: string } = {}): Reader<{ host: string; port: number }> {
  return {
    read(name, env) {
      const v = raw(name, env, false) ?? opts.default;
      if (v === undefined) throw new Problem(`${name}: is required, as host:port`);
      return parseHostPort(name, v);
    },
  };
}

/** host:port,host:port: a list of servers (Valkey's sentinels); empty unless set. */
export function hostPorts(): Reader<{ host: string; port: number }[]> {
  return {
    read(name, env) {
      const v = raw(name, env, false) ?? '';
      return v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((one) => parseHostPort(name, one));
    },
  };
}

function parseHostPort(name: string, v: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new Problem(`${name}: must be host:port; got ${JSON.stringify(v)}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/**
 * A gRPC target: `host:port`, a resolver's URI (`dns:///name:port`,
 * `dns:name:port`), or an address list (`ipv4:a:port,b:port`, `ipv6:[::1]:port`).
 */
export function grpcTarget(opts: { default?: string } = {}): Reader<string> {
  return {
    read(name, env) {
      const v = raw(name, env, false) ?? opts.default;
      if (v === undefined) throw new Problem(`${name}: is required, as host:port or a gRPC target (dns:///name:port, ipv4:a:port,b:port)`);
      const addr = /^(\[[^\]]+\]|[^:/,\s]+):(\d{1,5})$/;
      const okPort = (p: string) => Number(p) >= 1 && Number(p) <= 65535;
      const one = (a: string) => {
        const m = addr.exec(a);
        return m !== null && okPort(m[2]!);
      };
      const dns = /^dns:(?:\/\/[^/]*\/)?(.+)$/.exec(v);
      const list = /^(ipv4|ipv6):(.+)$/.exec(v);
      const ok = dns ? one(dns[1]!) : list ? list[2]!.split(',').every(one) : one(v);
      if (!ok) throw new Problem(`${name}: must be host:port, dns:///name:port or ipv4:a:port,b:port; got ${JSON.stringify(v)}`);
      return v;
    },
  };
}

export function list(opts: { default?: string[] } = {}): Reader<string[]> {
  return {
    read(name, env) {
      const v = raw(name, env, false);
      const items =
        v === undefined
          ? opts.default
          : v
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
      if (!items || items.length === 0) throw new Problem(`${name}: is required, a comma-separated list`);
      return items;
    },
  };
}

export type Spec = Record<string, Reader<unknown>>;
export type ConfigOf<S extends Spec> = { [K in keyof S]: S[K] extends Reader<infer T> ? T : never };

/** Reads every variable of the spec; throws one ConfigError naming all that are wrong. */
export function loadConfig<S extends Spec>(spec: S, env: Env = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, reader] of Object.entries(spec)) {
    try {
      out[name] = reader.read(name, env);
    } catch (err) {
      if (err instanceof Problem) problems.push(err.message);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

/** The names of a spec's secrets, for log redaction. */
export function secretNames(spec: Spec): string[] {
  return Object.entries(spec)
    .filter(([, r]) => r.secret)
    .map(([n]) => n);
}
