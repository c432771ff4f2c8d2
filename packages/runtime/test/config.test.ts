import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, grpcTarget, hostPort, hostPorts, int, list, loadConfig, oneOf, str } from '../src/config.js';

const spec = {
  PORT: int({ default: 8080, min: 1, max: 65535 }),
  MODE: oneOf(['both', 'kafka', 'rabbitmq'] as const, { default: 'both' }),
  TARGET: hostPort(),
  PASSWORD: str({ secret: true }),
  TOPICS: list({ default: ['a'] }),
};

test('reads values and defaults', () => {
  const c = loadConfig(spec, { TARGET: '127.0.0.1:9092', PASSWORD: 's3cret', TOPICS: 'x, y' });
  assert.deepEqual(c, {
    PORT: 8080,
    MODE: 'both',
    TARGET: { host: '127.0.0.1', port: 9092 },
    PASSWORD: 's3cret',
    TOPICS: ['x', 'y'],
  });
});

test('reports every bad variable at once, never echoing a secret', () => {
  try {
    loadConfig(spec, { PORT: '70000', MODE: 'kafkaa', TARGET: 'nohost' });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 4);
    assert.match(err.message, /PORT: must be an integer from 1 to 65535; got "70000"/);
    assert.match(err.message, /MODE: must be one of both, kafka, rabbitmq/);
    assert.match(err.message, /TARGET: must be host:port/);
    assert.match(err.message, /PASSWORD: is required \(or PASSWORD_FILE\)/);
  }
  try {
    loadConfig({ P: str({ secret: true, pattern: /^x+$/ }) }, { P: 'hunter2' });
    assert.fail('expected a ConfigError');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.doesNotMatch(err.message, /hunter2/);
  }
});

test('a secret can come from a file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'pw'), 'from-file\n');
  const c = loadConfig({ PASSWORD: str({ secret: true }) }, { PASSWORD_FILE: join(dir, 'pw') });
  assert.equal(c.PASSWORD, 'from-file');
});

test('rejects non-integers', () => {
  for (const v of ['1.5', 'abc', '1e3', ' ']) {
    assert.throws(() => loadConfig({ N: int() }, { N: v }), ConfigError, v);
  }
});

test('a gRPC target is host:port, a dns: name or an address list; anything else is named and refused', () => {
  const spec = { W: grpcTarget() };
  for (const ok of [
    '127.0.0.1:50051',
    'writer-kafka:50051',
    'dns:///writer-kafka.tweets.svc.cluster.local:50051',
    'dns:writer:1',
    'ipv4:127.0.0.1:50051,127.0.0.1:50061',
    'ipv6:[::1]:50051',
  ])
    assert.equal(loadConfig(spec, { W: ok }).W, ok);
  for (const bad of ['writer', 'writer:0', 'dns:///writer', 'ipv4:127.0.0.1:1,nope', 'http://writer:50051', 'a:1,b:2'])
    assert.throws(
      () => loadConfig(spec, { W: bad }),
      (e: Error) => e instanceof ConfigError && /W: must be host:port, dns:\/\/\/name:port or ipv4:a:port,b:port/.test(e.message),
      bad,
    );
});

test('a list of servers: empty unless set, each host:port checked', () => {
  assert.deepEqual(loadConfig({ S: hostPorts() }, {}).S, []);
  assert.deepEqual(loadConfig({ S: hostPorts() }, { S: '127.0.0.1:26379, [::1]:26380' }).S, [
    { host: '127.0.0.1', port: 26379 },
    { host: '::1', port: 26380 },
  ]);
  assert.throws(() => loadConfig({ S: hostPorts() }, { S: '127.0.0.1:26379,nohost' }), /S: must be host:port; got "nohost"/);
});
