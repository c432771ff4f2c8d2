// Entry of every npm script (start, stop, status, load, test, chaos, bench):
// runs it under the project's pinned Node.js LTS (.node-version), installing
// that Node.js into .tools/ from the npm registry's `node-<platform>-<arch>`
// package when the Node.js running this file is another line or older; then
// makes sure dependencies are installed and the TypeScript is built, and
// hands over to the stack's CLI. Plain JavaScript that any Node.js 18+ can
// run, because it runs before anything is installed or compiled.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const say = (msg) => console.log(`[stack] ${msg}`);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });

/** The pinned version, as x.y.z. */
const pinned = readFileSync(join(root, '.node-version'), 'utf8').trim().replace(/^v/, '');
const parse = (v) => v.replace(/^v/, '').split('.').map(Number);

/** Same major line as the pin, and at least the pinned version. */
function matches(version) {
  const [M, m, p] = parse(version);
  const [PM, Pm, Pp] = parse(pinned);
  return M === PM && (m > Pm || (m === Pm && p >= Pp));
}

/** The pinned Node.js binary under .tools/, installed from the npm registry if missing. */
function pinnedNode() {
  const pkg = `node-${process.platform}-${process.arch}`;
  const dir = join(root, '.tools', `${pkg}-${pinned}`);
  const bin = join(dir, 'bin', 'node');
  if (existsSync(bin)) return bin;
  say(`Node.js ${process.version} is not the pinned LTS ${pinned}: installing ${pkg}@${pinned} from the npm registry into .tools/`);
  const tmp = mkdtempSync(join(tmpdir(), 'node-pin-'));
  try {
    // npm checks the tarball against the registry's integrity hash.
    const file = execFileSync('npm', ['pack', `${pkg}@${pinned}`, '--pack-destination', tmp, '--silent'], { cwd: tmp, encoding: 'utf8' }).trim().split('\n').pop();
    run('tar', ['-xzf', join(tmp, file), '-C', tmp]);
    const got = execFileSync(join(tmp, 'package', 'bin', 'node'), ['--version'], { encoding: 'utf8' }).trim();
    if (got !== `v${pinned}`) throw new Error(`${pkg}@${pinned} holds Node.js ${got}`);
    mkdirSync(dirname(dir), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(tmp, 'package'), dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

if (!matches(process.version)) {
  const node = pinnedNode();
  // Everything from here on (npm, tsc, the stack's processes) runs under the pinned Node.js: it is first on PATH.
  const child = spawn(node, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH ?? ''}` },
  });
  // Ctrl-C and SIGTERM reach the child (same process group, or forwarded); this process only waits for it.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  say(`Node.js ${process.version} (${process.execPath})`);
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  // node_modules built by another Node.js major is reinstalled: native add-ons and engines checks differ.
  const stamp = join(root, 'node_modules', '.node-major');
  const major = String(parse(process.version)[0]);
  const stale = !existsSync(marker) || statSync(lock).mtimeMs > statSync(marker).mtimeMs || !existsSync(stamp) || readFileSync(stamp, 'utf8') !== major;
  if (stale) {
    say('installing npm dependencies (npm ci)');
    run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error']);
    writeFileSync(stamp, major);
  }
  say('building TypeScript (tsc -b)');
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b']);
  const cmd = process.argv[2];
  if (cmd === 'build') process.exit(0);
  if (cmd === 'bench') {
    await import('../bench/dist/src/main.js');
  } else {
    const { main } = await import('./dist/src/cli.js');
    process.exitCode = await main(process.argv.slice(2));
  }
}
