import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { createLogger } from '@tweets/runtime';
import { closeAfterDrain, createHttpServer } from '../src/index.js';

// a client that keeps its connections, as a proxy does, unless an answer asks it to close one
const agent = new Agent({ keepAlive: true });
const get = (port: number, path: string) =>
  new Promise<{ status: number; connection: string | undefined } | 'refused'>((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection }));
    });
    req.on('error', () => resolve('refused'));
    req.end();
  });

test('a stopping server answers as usual through its drain delay, not ready and closing each connection, then closes', async () => {
  const app = createHttpServer({ log: createLogger('drain-test'), bodyLimit: 1024 });
  app.get('/work', async () => 'done\n');
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const { port } = app.server.address() as { port: number };
    assert.deepEqual(await get(port, '/work'), { status: 200, connection: 'keep-alive' });
    const closed = closeAfterDrain(app, 1000);
    // within the delay: work answered (not 503), each answer closing its connection; not ready
    assert.deepEqual(await get(port, '/work'), { status: 200, connection: 'close' });
    assert.deepEqual(await get(port, '/readyz'), { status: 503, connection: 'close' });
    assert.deepEqual(await get(port, '/work'), { status: 200, connection: 'close' });
    await closed;
    assert.equal(await get(port, '/work'), 'refused', 'closed after the delay');
  } finally {
    await app.close();
    agent.destroy();
  }
});
