import { readdirSync, readFileSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system, with reaped children) and RSS of a process. */
export function sample(pid: number): { cpuSec: number; rssMb: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuSec: cpu / TICKS, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return { cpuSec: 0, rssMb: 0 };
  }
}

/** The processes whose parent is `pid` (RabbitMQ's wrapper script runs the Erlang VM as a child). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/** A process and its descendants, summed. */
export function sampleTree(pid: number): { cpuSec: number; rssMb: number } {
  const seen = [pid];
  for (let i = 0; i < seen.length; i++) seen.push(...childrenOf(seen[i]!));
  return seen.map(sample).reduce((a, b) => ({ cpuSec: a.cpuSec + b.cpuSec, rssMb: a.rssMb + b.rssMb }), { cpuSec: 0, rssMb: 0 });
}
