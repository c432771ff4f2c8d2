/** The node of `npm run cluster` as the cluster benchmarks reach it, and the kubectl calls they make on it. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface ClusterTarget {
  entry: string;
  /** kubectl's arguments before each command (its binary and the node's kubeconfig). */
  kubectl: string[];
  valkey: { host: string; port: number; password: string };
}

const run = promisify(execFile);

/** A kubectl command's output, trimmed (a pod list of the whole node is a few MB). */
export const kubectl = (t: ClusterTarget, args: string[]): Promise<string> =>
  run(t.kubectl[0]!, [...t.kubectl.slice(1), ...args], { maxBuffer: 32 << 20 }).then((r) => r.stdout.trim());

/** A kubectl `get` as JSON. */
export const kubectlJson = async <T>(t: ClusterTarget, args: string[]): Promise<T> =>
  JSON.parse(await kubectl(t, [...args, '-o', 'json'])) as T;

/** An object changed in place: a merge patch (an object) or a JSON patch (a list of operations). */
export const patch = (t: ClusterTarget, ns: string, kind: string, name: string, body: object): Promise<string> =>
  kubectl(t, ['-n', ns, 'patch', kind, name, `--type=${Array.isArray(body) ? 'json' : 'merge'}`, '-p', JSON.stringify(body)]);
