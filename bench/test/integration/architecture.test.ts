import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { architectureSvg, BOXES, FLOWS } from '@tweets/bench';
import { build, ensureK8sTools, K8S_DIR } from '@tweets/stack/k8s';
import { ROOT } from '@tweets/stack';

// The report's Kubernetes figure against the manifests: every object a box says it draws is in the base (or
// the component it names), every flow joins two boxes, and the committed SVGs are what the table renders.
test("the report's architecture figure names only what the manifests have, and the committed figure is the rendered one", () => {
  const t = ensureK8sTools((m) => console.log(`# ${m}`));
  const names = (dir: string): Set<string> =>
    new Set(
      parseAllDocuments(build(t.kubectl, join(K8S_DIR, dir)))
        .map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } } | null)
        .filter((o) => o !== null)
        .map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`),
    );
  const base = names('base');
  for (const b of BOXES) {
    const have = b.from ? new Set(componentNames(b.from)) : base;
    for (const ref of b.refs) assert.ok(have.has(ref), `${b.id}: ${ref} is in deploy/k8s/${b.from ?? 'base'}`);
    assert.ok(b.outside || b.refs.length > 0, `${b.id} names what it draws`);
  }
  const ids = new Set(BOXES.map((b) => b.id));
  for (const [from, to] of FLOWS) assert.ok(ids.has(from) && ids.has(to), `${from} -> ${to} joins two boxes`);
  for (const lang of ['en', 'es'] as const) {
    const file = join(ROOT, 'docs', 'report', `architecture${lang === 'es' ? '.es' : ''}.svg`);
    assert.equal(readFileSync(file, 'utf8'), architectureSvg(lang), `${file} is what npm run bench -- --report --render writes`);
  }
});

/** The objects a component's own YAML files declare (a component is not built alone). */
function componentNames(dir: string): string[] {
  const kustomization = readFileSync(join(K8S_DIR, dir, 'kustomization.yaml'), 'utf8');
  const files = [...kustomization.matchAll(/^\s*-\s*([\w.-]+\.yaml)\s*$/gm)].map((m) => m[1]!);
  return files.flatMap((f) =>
    parseAllDocuments(readFileSync(join(K8S_DIR, dir, f), 'utf8'))
      .map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } } | null)
      .filter((o) => o !== null)
      .map((o) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`),
  );
}
