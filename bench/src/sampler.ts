import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const TICKS = 100; // USER_HZ on Linux
const VM_RSS = /VmRSS:\s+(\d+)/;
const VM_HWM = /VmHWM:\s+(\d+)/;

export interface Sample {
  cpuSec: number;
  rssMb: number;
  /** The kernel's high-water mark of RSS since the process started (VmHWM): a peak no sampling interval can miss. */
  hwmMb: number;
}

const NOTHING: Sample = { cpuSec: 0, rssMb: 0, hwmMb: 0 };
const add = (a: Sample, b: Sample): Sample => ({ cpuSec: a.cpuSec + b.cpuSec, rssMb: a.rssMb + b.rssMb, hwmMb: a.hwmMb + b.hwmMb });

/** The fields of /proc/<pid>/stat after the process's name (which may hold spaces and parentheses): the state first, then the parent. */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system, with reaped children), RSS and peak RSS of a process. */
export function sample(pid: number): Sample {
  try {
    const f = statFields(pid);
    const cpu = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mb = (field: RegExp) => Number(field.exec(status)?.[1] ?? 0) / 1024;
    return { cpuSec: cpu / TICKS, rssMb: mb(VM_RSS), hwmMb: mb(VM_HWM) };
  } catch {
    return NOTHING;
  }
}

/** Every process's parent, read once from /proc. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      out.set(Number(d), Number(statFields(d)[1]));
    } catch {
      // gone
    }
  }
  return out;
}

/** A process and its descendants (RabbitMQ's wrapper script runs the Erlang VM as a child). */
export function treeOf(pid: number, ppids = parents()): number[] {
  const seen = [pid];
  for (let i = 0; i < seen.length; i++) for (const [p, pp] of ppids) if (pp === seen[i]) seen.push(p);
  return seen;
}

/** The machine's cores and CPU model, as every result file names them. */
export const cpuOf = () => ({ cores: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' });

/** The process trees of named processes, found once, then sampled cheaply as often as needed. */
export class TreeSampler {
  readonly trees: Record<string, number[]>;

  constructor(pids: Record<string, number>) {
    const ppids = parents();
    this.trees = Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, treeOf(p, ppids)]));
  }

  sample(): Record<string, Sample> {
    return Object.fromEntries(Object.entries(this.trees).map(([n, pids]) => [n, pids.map(sample).reduce(add, NOTHING)]));
  }
}

/** A process and its descendants, summed. */
export function sampleTree(pid: number): Sample {
  return new TreeSampler({ p: pid }).sample().p!;
}
