import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Item } from '@tweets/domain';
import { createForwarder } from '../src/forward.js';

/** A dispatcher on loopback that answers every request with `status` and `body`. */
async function dispatcher(status: number, body: object) {
  const server = createServer((req, res) => {
    req.resume().on('end', () => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const forwarderTo = (url: string, batchField: string) =>
  createForwarder({
    url,
    resource: '/sales',
    batchField,
    codec: { encodeBatch: (items) => Buffer.from(JSON.stringify(items)) },
    mode: 'batch',
    timeoutMs: 2000,
    connections: 1,
    lingerMs: 5,
    maxBatches: 1,
    batchMax: 10,
    log: pino({ level: 'silent' }),
  });

test("a batch the dispatcher refuses: the items it names by the domain's batch field are invalid, the others may be retried", async () => {
  const { server, url } = await dispatcher(422, {
    detail: 'sales[1].precio must be from 0 to 1000000',
    errors: [
      { field: 'sales[1].precio', reason: 'must be from 0 to 1000000' },
      { field: 'sales[1].cantidad_vendida', reason: 'must be from 1 to 10000' },
    ],
  });
  const f = forwarderTo(url, 'sales');
  try {
    const outcomes = await Promise.all(['a', 'b', 'c'].map((id) => f.forward({ id } as Item)));
    assert.deepEqual(outcomes[1], {
      status: 'invalid',
      detail: 'precio must be from 0 to 1000000; cantidad_vendida must be from 1 to 10000',
    });
    for (const i of [0, 2]) assert.equal(outcomes[i]!.status, 'unavailable', `item ${i} was not at fault`);
    assert.deepEqual(f.sent, { requests: 1, tweets: 3 });
  } finally {
    await f.close();
    server.close();
  }
});

test('a dispatcher that answers 503, or none at all, leaves every item unavailable', async () => {
  const { server, url } = await dispatcher(503, { detail: 'not durably accepted by: kafka' });
  const f = forwarderTo(url, 'sales');
  try {
    assert.deepEqual(await f.forward({ id: 'a' } as Item), { status: 'unavailable', detail: 'not durably accepted by: kafka' });
  } finally {
    await f.close();
    server.close();
  }
  const gone = forwarderTo(url, 'sales');
  try {
    const o = await gone.forward({ id: 'a' } as Item);
    assert.equal(o.status, 'unavailable');
    assert.match((o as { detail: string }).detail, /the dispatcher is unavailable \(ECONNREFUSED\)/);
  } finally {
    await gone.close();
  }
});
