import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderConf } from '../src/conf.js';

test('a template takes one value inline and a list on a line of its own, at that line indent', () => {
  const text = renderConf('nginx.conf', { DIR: '/d', PORT: 8080, SERVERS: ['server 127.0.0.1:8180;', 'server 127.0.0.1:8280;'] });
  assert.match(text, /\n {4}server 127\.0\.0\.1:8180;\n {4}server 127\.0\.0\.1:8280;\n {4}keepalive 64;/);
  assert.match(text, /listen 127\.0\.0\.1:8080 backlog=4096;/);
  assert.match(text, /pid \/d\/nginx\.pid;/);
  assert.doesNotMatch(text, /\$\{/);
});

test('an empty list drops its line', () => {
  const values = { PORT: 6379, DIR: '/d', MAXMEMORY: '4gb' };
  const without = renderConf('valkey.conf', { ...values, REPLICATION: [] });
  const two = renderConf('valkey.conf', { ...values, REPLICATION: ['masteruser default', 'masterauth pw'] });
  assert.equal(without.split('\n').length, two.split('\n').length - 2, 'the placeholder line gone, no blank left in its place');
  assert.doesNotMatch(without, /masterauth|\$\{/);
  assert.match(two, /\nmasteruser default\nmasterauth pw\n/);
});

test('a name without a value, or a list inline, is an error', () => {
  assert.throws(() => renderConf('nginx.conf', { DIR: '/d', SERVERS: [] }), /no value for \$\{PORT\}/);
  assert.throws(() => renderConf('nginx.conf', { DIR: ['/d'], PORT: 1, SERVERS: [] }), /takes one value/);
});
