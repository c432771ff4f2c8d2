import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../src/cli.js';

/** Runs the CLI with its output captured; nothing here starts a process (every line is refused before). */
async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = console.error = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    return { code: await main(argv), out: lines.join('\n') };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

test('each command takes its own flags: another command’s flag, a bad value or an unknown command is refused before anything runs', async () => {
  assert.match((await cli('status', '--writers', '2')).out, /Unknown option '--writers'/);
  assert.equal((await cli('status', '--writers', '2')).code, 1);
  const writers = await cli('start', '--writers', '9');
  assert.deepEqual([writers.code, writers.out], [1, '[stack] --writers must be an integer from 1 to 4; got 9']);
  assert.match((await cli('start', '--route', 'pigeon')).out, /--route must be one of both, kafka, rabbitmq; got pigeon/);
  assert.match((await cli('locust', '--users', '2000')).out, /--users must be an integer from 1 to 1000/);
  assert.match((await cli('chaos', '--rate', 'fast')).out, /--rate must be a positive number; got fast/);
  assert.match((await cli('start', '--count', 'lots')).out, /--count must be an integer/);
  assert.match((await cli('artifact', 'send')).out, /npm run artifact -- build\|push; got send/);
  assert.equal((await cli('teleport')).code, 2);
  const help = await cli('start', '--help');
  assert.deepEqual([help.code, help.out.split('\n')[0]!.startsWith('usage: npm start')], [0, true]);
});
