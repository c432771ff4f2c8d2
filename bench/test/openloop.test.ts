import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { openLoop } from '../src/openloop.js';

test('a response with Connection: close counts once, as answered, and the next request goes on a new connection', async () => {
  let n = 0;
  // Every third answer closes its connection, as NGINX does after keepalive_requests.
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      res.writeHead(202, { 'content-type': 'application/json', ...(n % 3 === 0 ? { connection: 'close' } : {}) }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    const r = await openLoop({
      url: `http://127.0.0.1:${port}`,
      path: '/tweets',
      rate: 300,
      durationMs: 1000,
      connections: 4,
      idPrefix: 'close',
    });
    assert.equal(r.sent, 300);
    assert.equal(r.errors, 0, JSON.stringify(r));
    assert.equal(r.ok, 300);
    assert.equal(n, 300);
  } finally {
    server.close();
  }
});
