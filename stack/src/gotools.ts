/** Finding commands, and the tools the project builds with Go into .tools/go/bin (gitignored). */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './layout.js';

export const GOBIN = join(ROOT, '.tools', 'go', 'bin');

/** A command's path on the PATH, or undefined. */
export function which(cmd: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** The go command: on the PATH, or in Go's own install folder. */
export function goBinary(): string {
  const go = which('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) throw new Error('Go is not installed: the project builds its tools (registry, oras, kubeconform, API server) with it');
  return go;
}

/**
 * `bin` in .tools/go/bin, installed with `go install module@version` the first time; `static`: statically
 * linked (no cgo), into .tools/go/static, for an image with nothing else in it.
 */
export function goInstalled(bin: string, module: string, log: (m: string) => void, o: { static?: boolean } = {}): string {
  const dir = o.static ? join(GOBIN, '..', 'static') : GOBIN;
  const path = join(dir, bin);
  if (existsSync(path)) return path;
  log(`installing ${module} with go install into ${relative(ROOT, dir)}`);
  execFileSync(goBinary(), ['install', module], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOBIN: dir, ...(o.static ? { CGO_ENABLED: '0' } : {}) },
  });
  return path;
}
