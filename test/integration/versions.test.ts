import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { Redis } from 'iovalkey';
import { pins, ROOT } from '@tweets/stack';
import { creds, pidOf, stack } from './helpers.js';

/**
 * The local stack runs what production runs: each running server's own version against the one pin the
 * cluster uses (deploy/k8s/base/versions.env), through the table of docs/local-stack.md, which says where
 * each local one comes from and why it differs where it does.
 */

const release = (v: string) => /\d+\.\d+\.\d+/.exec(v)?.[0] ?? v;

/** What each running server says it is. */
async function running(): Promise<Record<string, string>> {
  const conn = await amqp.connect(readFileSync(join(stack.secretsDir, 'rabbitmq-url'), 'utf8'));
  const rabbitmq = String((conn.connection as unknown as { serverProperties: { version: string } }).serverProperties.version);
  await conn.close();
  const v = new Redis({
    host: '127.0.0.1',
    port: stack.ports.valkey,
    username: 'reader',
    password: creds.valkeyReaderPassword,
    lazyConnect: true,
  });
  await v.connect();
  const valkey = /valkey_version:(\S+)/.exec(await v.info('server'))![1]!;
  v.disconnect();
  // Kafka's broker says its version in no protocol answer: the jar the running broker's class path names.
  const cp = readFileSync(`/proc/${pidOf('kafka')}/cmdline`, 'utf8').split('\0');
  const libs = cp[cp.indexOf('-cp') + 1]!.replace(/\/\*$/, '');
  const kafka = readdirSync(libs)
    .map((f) => /^kafka_2\.13-(\d+\.\d+\.\d+)\.jar$/.exec(f)?.[1])
    .find(Boolean)!;
  const build = (await (await fetch(`http://127.0.0.1:${stack.ports.prometheus}/api/v1/status/buildinfo`)).json()) as {
    data: { version: string };
  };
  return { RabbitMQ: release(rabbitmq), Valkey: release(valkey), Kafka: kafka, Prometheus: release(build.data.version) };
}

/** Production's pin of each server, from versions.env. */
function production(): Record<string, string> {
  const p = pins();
  return {
    RabbitMQ: release(p.RABBITMQ_IMAGE!),
    Valkey: release(p.VALKEY_IMAGE!),
    Kafka: p.KAFKA_VERSION!,
    Prometheus: p.PROMETHEUS_VERSION!,
  };
}

/** docs/local-stack.md's table: part, production, local stack, where the local one comes from. */
function documented(): Map<string, string[]> {
  const doc = readFileSync(join(ROOT, 'docs', 'local-stack.md'), 'utf8');
  const table = doc.slice(doc.indexOf('| part | production (versions.env) | local stack |'));
  const lines = table.split('\n').map((l) => l.trim());
  const rows = lines.slice(
    2,
    lines.findIndex((l, i) => i > 1 && !l.startsWith('|')),
  );
  return new Map(
    rows
      .map((r) =>
        r
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      )
      .map((c) => [c[0]!, c]),
  );
}

test('every server of the stack runs the version docs/local-stack.md says, and production pins; a difference says why', async () => {
  const [now, pinned, doc] = [await running(), production(), documented()];
  for (const part of Object.keys(now)) {
    const row = doc.get(part);
    assert.ok(row, `docs/local-stack.md has a row for ${part}`);
    assert.equal(row[1], pinned[part], `${part}: the table's production version is versions.env's`);
    assert.equal(row[2], now[part], `${part}: the table's local version is the one running`);
    if (now[part] !== pinned[part])
      assert.match(row[3]!, /differs: /, `${part}: the local ${now[part]} differs from production's ${pinned[part]}; the table says why`);
    else assert.doesNotMatch(row[3]!, /differs: /, `${part}: the same version on both; the table says no difference`);
  }
});
