import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, creds, post, stack } from './helpers.js';

const SECRET_VALUES = () => [creds.valkeyAdminPassword, creds.valkeyWriterPassword, creds.valkeyReaderPassword, creds.rabbitmqPassword];

test('no service log holds a secret', () => {
  const services = ['ingest-api', 'dispatcher', 'writer-kafka', 'writer-rabbitmq', 'kafka-consumer', 'rabbitmq-consumer', 'supervisor'];
  for (const s of services) {
    const text = readFileSync(join(stack.logs, `${s}.log`), 'utf8');
    assert.ok(text.length > 0, `${s} logged something`);
    for (const secret of SECRET_VALUES()) assert.ok(!text.includes(secret), `${s}.log holds a secret`);
  }
  assert.ok(readdirSync(stack.secretsDir).length >= 4);
});

test('no answer of the API holds a secret', async () => {
  const bodies = [
    (await post('{bad')).json,
    (await post({ municipality: 'x' })).json,
    await (await fetch(`${api}/stats`)).text(),
    await (await fetch(`${api}/nope`)).text(),
  ].map((b) => (typeof b === 'string' ? b : JSON.stringify(b)));
  for (const b of bodies) for (const secret of SECRET_VALUES()) assert.ok(!b.includes(secret));
});

test('services run with the scoped users, not the Valkey administrator', () => {
  const env = readFileSync(join(stack.dir, 'valkey', 'users.acl'), 'utf8');
  assert.match(env, /^user writer on .* -@dangerous/m);
  assert.match(env, /^user reader on .* -@all \+@read/m);
  assert.match(env, /^user default on /m, 'default stays on (valkey-io/valkey#3983), protected by a password');
  assert.doesNotMatch(env, /nopass/);
});
