import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Tracked files, by git; undefined where there is no repository (an unpacked archive). */
function tracked(...pathspec: string[]): string[] | undefined {
  try {
    return execFileSync('git', ['ls-files', '--', ...pathspec], { cwd: ROOT, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  } catch {
    return undefined;
  }
}

test('every committed result file is cited by a document (or is the table or chart beside a cited one)', (t) => {
  const results = tracked('bench/results');
  if (!results) return t.skip('not a git checkout');
  const docs = (tracked('*.md') ?? []).filter((f) => !f.startsWith('bench/results/'));
  const text = docs.map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
  const cited = (name: string) => text.includes(name);
  const stem = (name: string) => name.replace(/\.[a-z]+$/, '');
  const uncited = results
    .map((f) => basename(f))
    .filter((name) => !cited(name) && !['json', 'md', 'svg', 'txt'].some((x) => cited(`${stem(name)}.${x}`)));
  assert.deepEqual(uncited, [], 'result files no document cites: delete them (git keeps them) or cite them');
});
