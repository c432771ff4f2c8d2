/**
 * The node's certificates, with openssl: a CA and a front-proxy CA (the API aggregation layer, which
 * metrics-server's API goes through), the service-account key pair, a certificate per component (its
 * name as the CN, its groups as O) and a kubeconfig per client. Made once per node folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CLUSTER_PORTS } from '../ports.js';
import { NODE } from './plan.js';

interface Cert {
  name: string;
  cn: string;
  org?: string;
  ca: 'ca' | 'front-proxy-ca';
  /** Subject alternative names: a serving certificate. */
  san?: string[];
}

const CERTS: Cert[] = [
  {
    name: 'apiserver',
    cn: 'kube-apiserver',
    ca: 'ca',
    san: [
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
      'localhost',
      '127.0.0.1',
      NODE.ip,
      NODE.apiServiceIp,
    ],
  },
  { name: 'apiserver-kubelet-client', cn: 'kube-apiserver-kubelet-client', org: 'system:masters', ca: 'ca' },
  { name: 'admin', cn: 'admin', org: 'system:masters', ca: 'ca' },
  { name: 'controller-manager', cn: 'system:kube-controller-manager', ca: 'ca' },
  { name: 'scheduler', cn: 'system:kube-scheduler', ca: 'ca' },
  { name: 'kubelet', cn: `system:node:${NODE.name}`, org: 'system:nodes', ca: 'ca' },
  { name: 'kubelet-serving', cn: NODE.name, ca: 'ca', san: [NODE.name, 'localhost', '127.0.0.1', NODE.ip] },
  { name: 'kube-proxy', cn: 'system:kube-proxy', ca: 'ca' },
  { name: 'front-proxy-client', cn: 'front-proxy-client', ca: 'front-proxy-ca' },
];

/** The kubeconfigs, each with its client's certificate. */
export const KUBECONFIGS = ['admin', 'controller-manager', 'scheduler', 'kubelet', 'kube-proxy'] as const;

const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

function sign(dir: string, c: Cert): void {
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${c.name}.key`,
    '-out',
    `${c.name}.csr`,
    '-subj',
    `${c.org ? `/O=${c.org}` : ''}/CN=${c.cn}`,
  ]);
  const ip = (s: string) => /^[\d.]+$/.test(s);
  const ext = c.san
    ? [`subjectAltName=${c.san.map((s) => (ip(s) ? `IP:${s}` : `DNS:${s}`)).join(',')}`, 'extendedKeyUsage=serverAuth,clientAuth']
    : ['extendedKeyUsage=clientAuth'];
  writeFileSync(join(dir, `${c.name}.ext`), [...ext, 'keyUsage=digitalSignature,keyEncipherment', ''].join('\n'));
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${c.name}.csr`,
    '-CA',
    `${c.ca}.crt`,
    '-CAkey',
    `${c.ca}.key`,
    '-CAcreateserial',
    '-out',
    `${c.name}.crt`,
    '-days',
    '365',
    '-extfile',
    `${c.name}.ext`,
  ]);
  rmSync(join(dir, `${c.name}.csr`));
  rmSync(join(dir, `${c.name}.ext`));
}

export const apiServerUrl = () => `https://${NODE.ip}:${CLUSTER_PORTS.apiserver}`;

function kubeconfig(state: string, user: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'knode', cluster: { 'certificate-authority': join(state, 'pki', 'ca.crt'), server: apiServerUrl() } }],
    users: [
      { name: user, user: { 'client-certificate': join(state, 'pki', `${user}.crt`), 'client-key': join(state, 'pki', `${user}.key`) } },
    ],
    contexts: [{ name: 'knode', context: { cluster: 'knode', user } }],
    'current-context': 'knode',
  });
}

/** The certificates and kubeconfigs of the node whose folder is `state`, made if missing. */
export function ensurePki(state: string): void {
  const dir = join(state, 'pki');
  if (existsSync(join(dir, '.done'))) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const ca of ['ca', 'front-proxy-ca']) {
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.crt`,
      '-days',
      '365',
      '-subj',
      `/CN=knode-${ca}`,
    ]);
  }
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
  for (const c of CERTS) sign(dir, c);
  for (const k of KUBECONFIGS) writeFileSync(join(state, `${k}.kubeconfig`), kubeconfig(state, k), { mode: 0o600 });
  writeFileSync(join(dir, '.done'), '');
}
