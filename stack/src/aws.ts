/**
 * Checks of deploy/aws that need no AWS account (test/integration/aws.test.ts runs them):
 *
 *  - planCommands: the commands a dry-run plan prints (`+ ...`, quoted as bash's printf %q quotes), as words;
 *  - awsCliProblems: every `aws` command against the AWS CLI's own service models (botocore's, from PyPI,
 *    pinned: BOTOCORE_VERSION): the service, the operation or waiter, each option, the required ones, and
 *    each value given as JSON or shorthand, field by field, enums included;
 *  - eksctlSchema: eksctl's JSON schema of its ClusterConfig, from the pinned eksctl's Go module (the module
 *    proxy), laid out for kubeconform, which validates the ClusterConfig up.sh writes against it, strictly.
 *
 * What these cannot show is what AWS itself decides at run time (quotas, capacity, the answer of an API
 * called with valid arguments): docs/deploy-aws.md lists it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { goBinary } from './gotools.js';
import { ROOT } from './layout.js';

type Json = Record<string, any>;
type Log = (m: string) => void;
const CACHE = join(ROOT, '.tools', 'aws');

// ---------------------------------------------------------------------------
// The plan's commands

/** A line's words, as bash would split and unquote them (backslash escapes, '...', $'...' without escapes). */
function splitWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === "'" || (c === '$' && line[i + 1] === "'")) {
      const start = c === '$' ? i + 2 : i + 1;
      const end = line.indexOf("'", start);
      word += line.slice(start, end < 0 ? undefined : end);
      i = end < 0 ? line.length : end;
      inWord = true;
    } else if (c === ' ') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The commands a dry-run plan prints, each as its words (lines that start `+ `). */
export function planCommands(plan: string): string[][] {
  return plan
    .split('\n')
    .filter((l) => l.startsWith('+ '))
    .map((l) => splitWords(l.slice(2)));
}

// ---------------------------------------------------------------------------
// The AWS CLI's service models

/**
 * botocore, whose service models the AWS CLI's commands and options are made from (the CLI v2 carries the
 * same models). 1.44.8 is the newest on PyPI (checked 2026-12-04); its EC2 model has
 * CpuOptions.NestedVirtualization, as AWS CLI v2 2.33.21 and later do.
 */
export const BOTOCORE_VERSION = '1.44.8';

/** botocore's data folder, installed from PyPI into .tools/aws the first time (pip, no dependencies). */
export function ensureBotocore(log: Log): string {
  const dir = join(CACHE, `botocore-${BOTOCORE_VERSION}`);
  const data = join(dir, 'botocore', 'data');
  if (existsSync(join(data, 'ec2'))) return data;
  log(`installing botocore ${BOTOCORE_VERSION} (the AWS CLI's service models) into .tools/aws`);
  const r = spawnSync(
    'python3',
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', dir, `botocore==${BOTOCORE_VERSION}`],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`pip install botocore==${BOTOCORE_VERSION} failed: ${r.stderr || r.error?.message}`);
  return data;
}

interface Service {
  shapes: Record<string, Json>;
  operations: Record<string, Json>;
  waiters: Record<string, Json>;
  paginated: Set<string>;
}

const readJson = (path: string): Json =>
  JSON.parse((path.endsWith('.gz') ? gunzipSync(readFileSync(path)) : readFileSync(path)).toString('utf8'));

/** A service's newest model in botocore's data folder. */
function loadService(data: string, name: string): Service | undefined {
  const root = join(data, name);
  if (!existsSync(root)) return undefined;
  const dir = join(root, readdirSync(root).sort().pop()!);
  const file = (base: string) => [join(dir, base), join(dir, `${base}.gz`)].find(existsSync);
  const model = readJson(file('service-2.json')!);
  const waiters = file('waiters-2.json');
  const pages = file('paginators-1.json');
  return {
    shapes: model.shapes,
    operations: model.operations,
    waiters: waiters ? readJson(waiters).waiters : {},
    paginated: new Set(pages ? Object.keys(readJson(pages).pagination) : []),
  };
}

/** A model name as the CLI spells it: CreateLaunchTemplate -> create-launch-template, DBInstance -> db-instance. */
const kebab = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();

/** Options every command takes (the CLI's global ones); what follows an option up to the next is its values. */
const GLOBAL = new Set(['--region', '--query', '--output', '--profile', '--endpoint-url', '--no-cli-pager', '--debug', '--cli-input-json']);
/** Options of paginated operations (the CLI's pagination). */
const PAGING = new Set(['--max-items', '--starting-token', '--page-size', '--no-paginate']);
/**
 * Commands the CLI adds to a service's model, with their options: `eks update-kubeconfig`
 * (awscli/customizations/eks/update_kubeconfig.py).
 */
const CUSTOM: Record<string, Set<string>> = {
  'eks update-kubeconfig': new Set(['--name', '--kubeconfig', '--role-arn', '--dry-run', '--verbose', '--alias', '--user-alias']),
};
/** Required members the CLI fills itself: run-instances' MinCount and MaxCount (its --count, default 1). */
const FILLED_BY_CLI: Record<string, string[]> = { RunInstances: ['MinCount', 'MaxCount'] };

// ---------------------------------------------------------------------------
// Values: JSON, or the CLI's shorthand (a=b,c=[{d=e}])

type Short = string | Short[] | { [k: string]: Short };

/** The CLI's shorthand syntax, parsed: key=value pairs, [lists], {structures}, and a=b,c,d for a list. */
function parseShorthand(s: string): Short {
  let i = 0;
  const value = (stop: string): Short => {
    if (s[i] === '[') {
      i++;
      const items: Short[] = [];
      while (i < s.length && s[i] !== ']') {
        items.push(value(',]'));
        if (s[i] === ',') i++;
      }
      i++;
      return items;
    }
    if (s[i] === '{') {
      i++;
      const o = pairs('}');
      i++;
      return o;
    }
    const start = i;
    while (i < s.length && !stop.includes(s[i]!)) i++;
    return s.slice(start, i);
  };
  const pairs = (end: string): { [k: string]: Short } => {
    const o: { [k: string]: Short } = {};
    let last = '';
    while (i < s.length && s[i] !== end) {
      const eq = s.indexOf('=', i);
      const comma = s.indexOf(',', i);
      if (last && (eq < 0 || (comma >= 0 && comma < eq) || /[\]}]/.test(s.slice(i, eq)))) {
        // a=b,c: c continues a's list
        const more = value(`,${end}`);
        o[last] = [...(Array.isArray(o[last]) ? (o[last] as Short[]) : [o[last]!]), more];
      } else {
        last = s.slice(i, eq);
        i = eq + 1;
        o[last] = value(`,${end}`);
      }
      if (s[i] === ',') i++;
    }
    return o;
  };
  if (s.startsWith('[')) return value('');
  return pairs('');
}

/** What in a value (JSON or shorthand, parsed) the shape does not have: unknown fields, values outside an enum. */
function valueProblems(svc: Service, shapeName: string, v: unknown, at: string): string[] {
  const shape = svc.shapes[shapeName]!;
  if (shape.type === 'structure') {
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return [`${at}: a structure (${shapeName}) is expected, not ${JSON.stringify(v)}`];
    return Object.entries(v as Json).flatMap(([k, x]) =>
      shape.members[k]
        ? valueProblems(svc, shape.members[k].shape, x, `${at}.${k}`)
        : [`${at}: ${shapeName} has no member ${k} (it has ${Object.keys(shape.members).join(', ')})`],
    );
  }
  if (shape.type === 'list')
    return (Array.isArray(v) ? v : [v]).flatMap((x, n) => valueProblems(svc, shape.member.shape, x, `${at}[${n}]`));
  if (shape.type === 'map')
    return Object.entries((v ?? {}) as Json).flatMap(([k, x]) => valueProblems(svc, shape.value.shape, x, `${at}.${k}`));
  if (shape.enum && typeof v === 'string' && !shape.enum.includes(v)) return [`${at}: ${v} is not one of ${shape.enum.join(', ')}`];
  return [];
}

/** An option's values checked against its member's shape (JSON when it starts with { or [, shorthand otherwise). */
function optionProblems(svc: Service, member: Json, values: string[], at: string): string[] {
  const shape = svc.shapes[member.shape]!;
  const structured = (s: Json) => s.type === 'structure' || s.type === 'map';
  const parse = (x: string): unknown => (/^[[{]/.test(x) ? JSON.parse(x) : parseShorthand(x));
  if (structured(shape)) return values.flatMap((x) => valueProblems(svc, member.shape, parse(x), at));
  if (shape.type === 'list' && structured(svc.shapes[shape.member.shape]!))
    return values.flatMap((x) => {
      const v = parse(x);
      return (Array.isArray(v) ? v : [v]).flatMap((item) => valueProblems(svc, shape.member.shape, item, at));
    });
  return values.flatMap((x) => valueProblems(svc, member.shape, x, at));
}

/** The options of a command's words: each --name with the values up to the next option. */
function optionsOf(words: string[]): { name: string; values: string[] }[] {
  const out: { name: string; values: string[] }[] = [];
  for (const w of words) {
    if (w.startsWith('--')) out.push({ name: w, values: [] });
    else if (out.length) out[out.length - 1]!.values.push(w);
  }
  return out;
}

/** One `aws` command against the models: what the CLI would refuse before calling AWS. */
function commandProblems(data: string, words: string[]): string[] {
  const [, service, command, ...rest] = words;
  const where = `aws ${service} ${command}`;
  const svc = loadService(data, service!);
  if (!svc) return [`${where}: no service ${service}`];
  const custom = CUSTOM[`${service} ${command}`];
  let op: string | undefined;
  let args = rest;
  if (command === 'wait') {
    const waiter = Object.keys(svc.waiters).find((w) => kebab(w) === rest[0]);
    if (!waiter) return [`${where} ${rest[0]}: no such waiter (${Object.keys(svc.waiters).map(kebab).join(', ')})`];
    op = svc.waiters[waiter]!.operation as string;
    args = rest.slice(1);
  } else if (!custom) {
    op = Object.keys(svc.operations).find((o) => kebab(o) === command);
    if (!op) return [`${where}: no such operation`];
  }
  const inputShape = op ? (svc.operations[op]?.input?.shape as string | undefined) : undefined;
  const input: Json = inputShape ? svc.shapes[inputShape]! : { members: {}, required: [] };
  const members = new Map(Object.keys(input.members as Json).map((k) => [`--${kebab(k)}`, k]));
  const problems: string[] = [];
  const given = new Set<string>();
  for (const { name, values } of optionsOf(args)) {
    const member = members.get(name) ?? members.get(name.replace(/^--no-/, '--'));
    if (member) {
      given.add(member);
      problems.push(...optionProblems(svc, input.members[member], values, `${where} ${name}`));
    } else if (!GLOBAL.has(name) && !(op && svc.paginated.has(op) && PAGING.has(name)) && !custom?.has(name))
      problems.push(`${where}: no option ${name}`);
  }
  for (const r of (input.required ?? []) as string[])
    if (!given.has(r) && !FILLED_BY_CLI[op ?? '']?.includes(r) && command !== 'wait') problems.push(`${where}: --${kebab(r)} is required`);
  return problems;
}

/** Every problem of the `aws` commands among cmds, one line each (none: the CLI takes them all). */
export function awsCliProblems(cmds: string[][], data: string): string[] {
  return cmds.filter((c) => c[0] === 'aws').flatMap((c) => commandProblems(data, c));
}

// ---------------------------------------------------------------------------
// eksctl's ClusterConfig schema

/**
 * A kubeconform schema folder with eksctl's ClusterConfig schema (pkg/apis/eksctl.io/v1alpha5/assets/
 * schema.json, generated from its types, unknown fields refused) of the pinned eksctl, from its Go module.
 */
export function eksctlSchema(version: string, log: Log): string {
  const dir = join(CACHE, `eksctl-schema-${version}`);
  if (existsSync(join(dir, '.done'))) return dir;
  log(`downloading eksctl ${version}'s Go module for its ClusterConfig schema`);
  const out = execFileSync(goBinary(), ['mod', 'download', '-json', `github.com/weaveworks/eksctl@v${version}`], {
    cwd: tmpdir(),
    encoding: 'utf8',
  });
  const src = join((JSON.parse(out) as { Dir: string }).Dir, 'pkg', 'apis', 'eksctl.io', 'v1alpha5', 'assets', 'schema.json');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'eksctl.io'), { recursive: true });
  copyFileSync(src, join(dir, 'eksctl.io', 'clusterconfig_v1alpha5.json'));
  writeFileSync(join(dir, '.done'), '');
  return dir;
}

/** kubeconform, strict, on a ClusterConfig against eksctl's schema. */
export function validateClusterConfig(kubeconform: string, schemas: string, yaml: string): { ok: boolean; output: string } {
  const r = spawnSync(
    kubeconform,
    [
      '-strict',
      '-summary',
      '-output',
      'text',
      '-schema-location',
      `${schemas}/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`,
      '-',
    ],
    { input: yaml, encoding: 'utf8' },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() };
}
