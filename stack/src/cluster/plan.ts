/**
 * The Kubernetes node of `npm run cluster`, as data: its name and addresses, where it keeps its state, and
 * the bridge its pods live on. The bridge has routes to nothing outside the machine (no default route in
 * the pods, no masquerade): pods reach each other, the node's address and the Services, nothing else.
 */
import { join } from 'node:path';
import { ROOT, type RunLayout } from '../layout.js';

export const NODE = {
  name: 'knode-node',
  /** The pods' bridge; the node's own address is on it (the pods' gateway), where the API server and kubelet listen. */
  bridge: 'knodebr0',
  ip: '10.244.0.1',
  podCidr: '10.244.0.0/24',
  serviceCidr: '10.97.0.0/24',
  /**
   * The `kubernetes` Service's address (the first of the range), CoreDNS's, the ingress's (the entry URL
   * forwards there) and the registry's (the machine pushes there). The fixed ones lie in the range's static
   * band, its first 16 addresses, which the API server leaves to Services that ask for an address while any
   * other is free: at 10.97.0.80 a Service created before the ingress's could take it at random (it did:
   * valkey), and the ingress's then failed; the registry's, at 10.97.0.50, failed the same way in a CI run.
   */
  apiServiceIp: '10.97.0.1',
  dnsIp: '10.97.0.10',
  ingressIp: '10.97.0.11',
  registryIp: '10.97.0.12',
} as const;

/** Everything the node keeps: certificates, etcd's data, containerd's images and containers, the pods' volumes, logs. */
export const STATE = join(ROOT, '.data', 'cluster');

/** The folders under STATE the host paths of the node's agents are bound to, and the volumes' root. */
export const VOLUMES = join(STATE, 'volumes');

/** The supervisor's name for the node's processes, and where their logs and state are. */
export const CLUSTER = 'cluster';
export const clusterLayout = (): RunLayout => ({
  name: CLUSTER,
  dir: STATE,
  logs: join(STATE, 'logs'),
  stateFile: join(STATE, 'state.json'),
});
