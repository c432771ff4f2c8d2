import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/main.js', import.meta.url));
/** `npm run bench -- <args>` as the bootstrap runs it; every case here stops before anything starts. */
const bench = (...args: string[]) => spawnSync(process.execPath, [main, 'bench', ...args], { encoding: 'utf8', timeout: 30_000 });

test('a mistyped flag, two modes at once or a bad number stop the bench before it starts anything', () => {
  for (const [args, says] of [
    [['--cluster-hpaa'], /Unknown option '--cluster-hpaa'/],
    [['--valkey-replica', '--transport'], /one of --transport, --valkey-replica at a time/],
    [['--transport', '--tweets', 'lots'], /--tweets lots: a positive number/],
    [['--scenarios'], /--scenarios/],
  ] as const) {
    const r = bench(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, says);
  }
});

test('--help lists every mode', () => {
  const r = bench('--help');
  assert.equal(r.status, 0, r.stderr);
  for (const mode of ['--report', '--seed-load', '--transport', '--cluster-hpa', '--cluster-replicas', '--cluster-valkey'])
    assert.ok(r.stdout.includes(mode), mode);
});
