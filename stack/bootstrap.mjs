// Entry of `npm start|stop|status|load|test`: makes sure dependencies are
// installed and the TypeScript is built, then hands over to the stack's CLI.
// Plain JavaScript because it runs before anything is installed or compiled.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');

if (!existsSync(marker) || statSync(lock).mtimeMs > statSync(marker).mtimeMs) {
  console.log('[stack] installing npm dependencies (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
}
console.log('[stack] building TypeScript (tsc -b)');
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b']);
if (process.argv[2] === 'build') process.exit(0);
const { main } = await import('./dist/src/cli.js');
process.exitCode = await main(process.argv.slice(2));
