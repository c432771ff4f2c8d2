import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout; secrets are redacted wherever they appear in a logged object. */
export function createLogger(service: string, secrets: string[] = []): Logger {
  const paths = ['password', '*.password', 'config.password', ...secrets, ...secrets.map((s) => `*.${s}`)];
  return pino({
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service, pid: process.pid },
    redact: { paths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
