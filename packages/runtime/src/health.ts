import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export type Check = () => boolean | Promise<boolean>;

/**
 * A tiny HTTP server for services that serve nothing else over HTTP (the
 * consumers, and the writers beside their gRPC port): /livez answers 200 while
 * the process runs; /readyz answers 200 only while `ready()` holds, else 503;
 * /metrics, with a registry, the Prometheus exposition.
 */
export async function startHealthServer(host: string, port: number, ready: Check, metrics?: Registry): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics' && metrics) {
      metrics.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body),
        () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
      );
      return;
    }
    if (path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      Promise.resolve()
        .then(ready)
        .then(
          (ok) => res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n'),
          () => res.writeHead(503, { 'content-type': 'text/plain' }).end('not ready\n'),
        );
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
