import { spawnSync } from 'node:child_process';
import { get } from 'node:https';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { Admin } from '@platformatic/kafka';
import { service as healthService } from 'grpc-health-check';
import * as amqp from 'amqplib';

/** Readiness probes: each answers true or false within about a second, never throws. */

export function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export async function httpReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** AUTH then PING over RESP, expecting +OK and +PONG; 'loading' while Valkey is still loading its data. */
export function valkeyPing(port: number, user: string, password: string): Promise<boolean | 'loading'> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (ok: boolean | 'loading') => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => {
      const arg = (v: string) => `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
      s.write(`*3\r\n${arg('AUTH')}${arg(user)}${arg(password)}*1\r\n${arg('PING')}`);
    });
    s.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n+PONG') || buf.startsWith('+OK\r\n+PONG')) done(true);
      else if (buf.includes('-LOADING')) done('loading');
      else if (buf.startsWith('-')) done(false);
    });
  });
}

const HealthClient = grpc.makeGenericClientConstructor(healthService, 'Health');

export function grpcServing(port: number, service = ''): Promise<boolean> {
  return new Promise((resolve) => {
    const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      (arg: { service: string }) => healthService.Check!.requestSerialize(arg),
      (buf: Buffer) => healthService.Check!.responseDeserialize(buf) as { status: string },
      { service },
      { deadline: Date.now() + 1000 },
      (err, res) => {
        client.close();
        resolve(!err && res?.status === 'SERVING');
      },
    );
  });
}

export async function kafkaReady(port: number): Promise<boolean> {
  if (!(await tcpOpen(port))) return false;
  const admin = new Admin({ clientId: 'stack-probe', bootstrapBrokers: [`127.0.0.1:${port}`], timeout: 1000, retries: 0 });
  try {
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export async function amqpReady(url: string): Promise<boolean> {
  try {
    const c = await amqp.connect(url, { timeout: 1000 });
    c.on('error', () => undefined);
    await c.close();
    return true;
  } catch {
    return false;
  }
}

/** An HTTPS GET answered 200, its certificate checked against `ca` (a PEM; omitted: a loopback health endpoint's self-signed one is taken as it is). */
export function httpsReady(url: string, ca?: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { ca, rejectUnauthorized: ca !== undefined, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** A command that exits 0 (within a few seconds). */
export async function succeeds(command: string, args: string[]): Promise<boolean> {
  return spawnSync(command, args, { stdio: 'ignore', timeout: 5000 }).status === 0;
}
