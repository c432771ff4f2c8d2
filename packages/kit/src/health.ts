import { createServer, type Server } from 'node:http';

export type Check = () => boolean | Promise<boolean>;

/**
 * A tiny HTTP server for services that serve nothing else over HTTP (the
 * consumers): /livez answers 200 while the process runs; /readyz answers 200
 * only while `ready()` holds, else 503.
 */
export async function startHealthServer(host: string, port: number, ready: Check): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
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
