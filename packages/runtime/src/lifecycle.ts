import { ConfigError } from './config.js';
import { createLogger, type Logger } from './log.js';

export interface Running {
  /** Stop taking new work, finish what is in flight, close connections. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  name: string;
  /** Secret config names, redacted from logs. */
  secrets?: string[];
  /** How long a graceful stop may take before the process exits anyway. */
  stopTimeoutMs?: number;
  start(log: Logger): Promise<Running>;
}

/**
 * Runs a service's main: starts it, and on SIGTERM or SIGINT drains it and
 * exits 0 (or 1 if draining failed or took too long). A config error exits 2
 * with one readable message; any other start failure exits 1.
 */
export async function runService(opts: ServiceOptions): Promise<void> {
  const log = createLogger(opts.name, opts.secrets);
  let running: Running;
  try {
    running = await opts.start(log);
  } catch (err) {
    if (err instanceof ConfigError) {
      log.fatal({ problems: err.problems }, `${opts.name}: ${err.message}`);
      process.stderr.write(`${opts.name}: ${err.message}\n`);
      process.exit(2);
    }
    log.fatal({ err }, `${opts.name} failed to start`);
    process.exit(1);
  }
  log.info('started');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: draining in-flight work');
    const timer = setTimeout(() => {
      log.error('graceful stop timed out; exiting');
      process.exit(1);
    }, opts.stopTimeoutMs ?? 15_000);
    timer.unref();
    running.stop().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (err) => {
    log.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
}
