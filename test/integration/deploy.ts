import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { tempDir } from '@tweets/stack';
import type { Obj } from '@tweets/stack/cloud';
import { build, CRDS_DIR, createCrds, ensureK8sTools, startApiServer, variants, type ApiServer, type K8sTools } from '@tweets/stack/k8s';

/** What the cloud tests (gke, aws) share: their log, the manifests' objects, bash, and an API server holding the manifests' namespaces. */

export const log = (m: string) => console.log(`# ${m}`);
const hasCrds = existsSync(CRDS_DIR);
/** A test's `skip` where the operators' CRDs are absent. */
export const NO_CRDS = !hasCrds && `${CRDS_DIR} is absent: the operators' kinds cannot be created here`;

export const objects = (yaml: string) =>
  parseAllDocuments(yaml)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);

export const bash = (script: string, env: Record<string, string> = {}, timeout = 120_000) =>
  spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout });

/**
 * The variants of deploy/k8s that `keep` names, built, and an API server with the operators' CRDs (where
 * present) and every namespace the variants make, labels (Pod Security levels) included, each with its
 * default ServiceAccount.
 */
export async function deployFixture(
  keep: (variant: string) => boolean,
): Promise<{ tools: K8sTools; api: ApiServer; built: { name: string; objs: Obj[] }[] }> {
  const tools = ensureK8sTools(log);
  const built = variants()
    .filter((v) => keep(v.name))
    .map((v) => ({ name: v.name, objs: objects(build(tools.kubectl, v.dir)) }));
  const api = await startApiServer(tools, log);
  if (hasCrds) createCrds(api);
  const namespaces = new Map<string, Obj>();
  for (const b of built) for (const o of b.objs) if (o.kind === 'Namespace') namespaces.set(o.metadata.name, o);
  const r = api.kubectl(['apply', '--server-side', '-f', '-'], [...namespaces.values()].map((n) => stringify(n)).join('---\n'));
  assert.ok(r.ok, r.output);
  for (const n of namespaces.keys()) api.kubectl(['-n', n, 'create', 'serviceaccount', 'default']);
  return { tools, api, built };
}

/** A PATH folder with the shell's own tools (and `extra`) and none of a deployment's: what up.sh must find missing. */
export function barePath(extra: string[] = []): string {
  const bin = tempDir('bare-path-');
  for (const t of [
    'bash',
    'sed',
    'grep',
    'cat',
    'dirname',
    'tail',
    'head',
    'mkdir',
    'chmod',
    'rm',
    'touch',
    'date',
    'tr',
    'printf',
    'env',
    ...extra,
  ]) {
    const p = spawnSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim();
    if (p.startsWith('/')) spawnSync('ln', ['-s', p, join(bin, t)]);
  }
  return bin;
}
