/**
 * What a message between two processes costs on this machine, apart from any
 * protocol: a 200-byte echo over loopback TCP between this process and a
 * child, with one round trip in flight (each side sleeps while the other
 * works, as at light load) and with ten (each side finds work waiting).
 * npm run bench -- --ping-pong.
 */
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { sample } from '../src/sampler.js';

export interface PingPongResult {
  inFlight: number;
  roundTrips: number;
  perSec: number;
  /** CPU µs per round trip of the client (this process) and of the echoing child. */
  clientUs: number;
  serverUs: number;
}

function echoServer(): void {
  const srv = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
  });
  srv.listen(0, '127.0.0.1', () => process.send!((srv.address() as net.AddressInfo).port));
}

async function run(port: number, pid: number, inFlight: number, roundTrips: number): Promise<PingPongResult> {
  const socks = await Promise.all(
    Array.from(
      { length: inFlight },
      () =>
        new Promise<net.Socket>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => resolve(s));
          s.setNoDelay(true);
        }),
    ),
  );
  const buf = Buffer.alloc(200, 1);
  let left = roundTrips;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const c0 = sample(pid).cpuSec;
  const s0 = process.cpuUsage();
  const t0 = performance.now();
  for (const s of socks) {
    // 200 bytes come back in one read on loopback; each read is one round trip.
    s.on('data', () => {
      if (--left <= 0) done();
      else if (left >= inFlight) s.write(buf);
    });
    s.write(buf);
  }
  await finished;
  const ms = performance.now() - t0;
  const self = process.cpuUsage(s0);
  const server = sample(pid).cpuSec - c0;
  for (const s of socks) s.destroy();
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    inFlight,
    roundTrips,
    perSec: Math.round((roundTrips / ms) * 1000),
    clientUs: r1((self.user + self.system) / roundTrips),
    serverUs: r1((server * 1e6) / roundTrips),
  };
}

export async function pingPong(roundTrips = 20_000): Promise<PingPongResult[]> {
  const child = fork(fileURLToPath(import.meta.url), ['--echo'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
    await run(port, child.pid!, 1, 2000); // warm-up
    return [await run(port, child.pid!, 1, roundTrips), await run(port, child.pid!, 10, roundTrips)];
  } finally {
    child.kill('SIGTERM');
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--echo')) echoServer();
