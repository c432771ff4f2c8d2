import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readState } from '@tweets/stack';
import { stack } from './helpers.js';

/** Every process under these PIDs (RabbitMQ's script starts the Erlang VM as a child, the VM its port helpers). */
function descendants(roots: number[]): Set<number> {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out = new Set(roots);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, ppid] of parent) if (out.has(ppid) && !out.has(pid)) grew = out.add(pid).size > 0;
  }
  return out;
}

/** Every TCP and UDP socket listening on this machine: address, port and the PIDs holding it. */
function listeners(): { address: string; port: number; pids: number[]; line: string }[] {
  return execFileSync('ss', ['-H', '-l', '-n', '-t', '-u', '-p'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const local = line.trim().split(/\s+/)[4]!;
      const at = local.lastIndexOf(':');
      return {
        address: local.slice(0, at),
        port: Number(local.slice(at + 1)),
        pids: [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])),
        line,
      };
    });
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.\d+\.\d+\.\d+\])$/;

test("every socket the stack's processes listen on is bound to loopback, RabbitMQ's Erlang distribution port included", () => {
  const s = readState(stack);
  assert.ok(s, `stack ${stack.name} is running`);
  const pids = descendants(
    Object.values(s.components)
      .map((c) => c.pid)
      .filter((p): p is number => p !== null),
  );
  const ours = listeners().filter((l) => l.pids.some((p) => pids.has(p)));
  const ports = new Set(ours.map((l) => l.port));
  for (const p of [
    stack.ports.api,
    stack.ports.valkey,
    stack.ports.kafka,
    stack.ports.kafkaController,
    stack.ports.amqp,
    stack.ports.rabbitmqDist,
    stack.ports.epmd,
    stack.ports.prometheus,
  ]) {
    assert.ok(ports.has(p), `port ${p} is among the stack's listeners: ${[...ports].join(', ')}`);
  }
  const exposed = ours.filter((l) => !LOOPBACK.test(l.address));
  assert.deepEqual(
    exposed.map((l) => l.line),
    [],
    'listeners on an address other than loopback',
  );
});
