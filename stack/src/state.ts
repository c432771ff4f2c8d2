import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { RunLayout } from './layout.js';

export interface ComponentState {
  pid: number | null;
  status: 'starting' | 'ready' | 'restarting' | 'stopped' | 'failed';
  restarts: number;
  log: string;
}

export interface StackState {
  supervisorPid: number;
  status: 'starting' | 'ready' | 'stopping' | 'stopped' | 'failed';
  error?: string;
  route: string;
  profile: string;
  /** The domain the services run (absent in a state written before domains: weather). */
  domain?: string;
  /** Writer processes per broker (absent: 1). */
  writers?: number;
  /** API processes behind NGINX (absent or 0: no NGINX, one API). */
  apis?: number;
  /** Kafka on three nodes (absent: one). */
  replicated?: boolean;
  components: Record<string, ComponentState>;
}

export function readState(l: RunLayout): StackState | undefined {
  if (!existsSync(l.stateFile)) return undefined;
  try {
    return JSON.parse(readFileSync(l.stateFile, 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

export function writeState(l: RunLayout, s: StackState): void {
  const tmp = `${l.stateFile}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2));
  renameSync(tmp, l.stateFile);
}

export function alive(pid: number | null | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); it is not running.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
