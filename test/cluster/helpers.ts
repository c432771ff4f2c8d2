import { clusterKubectl, entryUrl, type Kubectl } from '@tweets/stack/cluster';

/**
 * The cluster tier runs against the Kubernetes node of `npm run cluster` (npm test brings one up when none
 * runs, and takes it down after): the system through its entry URL, and kubectl as the node's administrator.
 */
export const entry = entryUrl();
export const kubectl: Kubectl = clusterKubectl();

/** kubectl that must succeed: its output. */
export function k(...args: string[]): string {
  const r = kubectl(args);
  if (!r.ok) throw new Error(`kubectl ${args.join(' ')}: ${r.out}`);
  return r.out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every Deployment and StatefulSet of a namespace rolled out and ready: a guard against a hang, far above what a slow machine needs. */
export function rolledOut(ns: string, timeoutSec = 600): void {
  for (const kind of ['deployment', 'statefulset']) {
    for (const name of k('-n', ns, 'get', kind, '-o', 'name').split('\n').filter(Boolean))
      k('-n', ns, 'rollout', 'status', name, `--timeout=${timeoutSec}s`);
  }
}

/**
 * A TCP connection from a pod to host:port, made by Node.js in the pod (every service image has it):
 * 'connected', or 'refused' when the connection is rejected or nothing answers within 3 s (a
 * NetworkPolicy rejects or drops the packets).
 */
export function dial(ns: string, target: string, host: string, port: number): 'connected' | 'refused' {
  // a name that does not resolve is an error, not a refusal: the probe would prove nothing
  const script = `const s=require('net').connect(${port},${JSON.stringify(host)});s.setTimeout(3000,()=>{console.log('timeout');process.exit(0)});s.on('connect',()=>{console.log('connected');process.exit(0)});s.on('error',(e)=>{console.log(e.code);process.exit(0)})`;
  const out = k('-n', ns, 'exec', target, '--', 'node', '-e', script).trim();
  if (out === 'connected') return out;
  if (['timeout', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET'].includes(out)) return 'refused';
  throw new Error(`dial from ${ns}/${target} to ${host}:${port}: ${out}`);
}
