import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pidOf } from './helpers.js';

const SCHED_OTHER = 0;
const SCHED_IDLE = 5;

/** The scheduling policy of every thread of a process (field 41 of /proc/<pid>/task/<tid>/stat). */
function policies(pid: number): Set<number> {
  const out = new Set<number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    out.add(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]));
  }
  return out;
}

test('the consumers and Valkey run under SCHED_IDLE, every thread; the request path at normal priority', () => {
  for (const c of ['valkey', 'kafka-consumer', 'rabbitmq-consumer']) assert.deepEqual([...policies(pidOf(c))], [SCHED_IDLE], c);
  for (const c of ['ingest-api', 'dispatcher', 'writer-kafka', 'writer-rabbitmq', 'kafka'])
    assert.deepEqual([...policies(pidOf(c))], [SCHED_OTHER], c);
});
