/**
 * `npm run bench -- --dedup-memory`: what one remembered id costs in Valkey,
 * for each way the dedup window could keep ids, measured at a million ids on
 * a throwaway Valkey (its own port and folder, no persistence, stopped at the
 * end). Two kinds of id: the API's own (a UUID, 36 characters) and a client's
 * Idempotency-Key as the load generator makes them (about 20 characters).
 *
 *   key per id   SET <prefix>:{path}:seen:<id> 1 NX EX <ttl>: one key, with its own expiry, per id
 *   set bucket   SADD <prefix>:{path}:seen:<bucket> <id>: ids as members of a set that expires whole
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'iovalkey';
import { scratchDir, TOOL_PORTS, valkeyServer } from '@tweets/stack';

export interface DedupMemory {
  ids: number;
  valkey: string;
  /** Bytes of used_memory per id, by representation and kind of id. */
  bytesPerId: Record<'keyPerId' | 'setBucket', { uuid: number; short: number }>;
}

const PORT = TOOL_PORTS.dedupValkey;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

async function usedMemory(r: Redis): Promise<number> {
  const info = await r.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

export async function measureDedupMemory(n = 1_000_000, log: (m: string) => void = () => {}): Promise<DedupMemory> {
  const dir = scratchDir('valkey-dedup-');
  const line = valkeyServer(['--port', String(PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]);
  const server = spawn(line.command, line.args, { stdio: 'ignore' });
  for (let i = 0; !(await listening(PORT)); i++) {
    if (i > 100) throw new Error('the throwaway valkey did not start');
    await sleep(100);
  }
  const r = new Redis({ port: PORT, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    const version = /valkey_version:(\S+)/.exec(await r.info('server'))?.[1] ?? 'unknown';
    const ids = {
      uuid: Array.from({ length: n }, () => randomUUID()),
      short: Array.from({ length: n }, (_, i) => `load-1796222079131-${i}`),
    };
    const out = { keyPerId: { uuid: 0, short: 0 }, setBucket: { uuid: 0, short: 0 } } as DedupMemory['bytesPerId'];
    for (const rep of ['keyPerId', 'setBucket'] as const) {
      for (const kind of ['uuid', 'short'] as const) {
        await r.call('FLUSHALL', 'SYNC');
        await sleep(200);
        const m0 = await usedMemory(r);
        for (let i = 0; i < n; i += 2000) {
          const p = r.pipeline();
          for (const id of ids[kind].slice(i, i + 2000)) {
            if (rep === 'keyPerId') p.set(`wt:{kafka}:seen:${id}`, '1', 'EX', 86_400, 'NX');
            else p.sadd('wt:{kafka}:seen:29930368', id);
          }
          await p.exec();
        }
        if (rep === 'setBucket') await r.expire('wt:{kafka}:seen:29930368', 86_400);
        out[rep][kind] = Math.round(((await usedMemory(r)) - m0) / n);
        log(`${rep}, ${kind} ids: ${out[rep][kind]} bytes per id`);
      }
    }
    return { ids: n, valkey: version, bytesPerId: out };
  } finally {
    r.disconnect();
    server.kill('SIGTERM');
    await new Promise((res) => server.once('exit', res));
    rmSync(dir, { recursive: true, force: true });
  }
}
