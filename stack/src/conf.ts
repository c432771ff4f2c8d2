import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './layout.js';

/** A value for a template's ${NAME}: one value, or a list of lines. */
export type ConfValue = string | number | readonly string[];

/** The local stack's config templates. */
export const CONF_DIR = join(ROOT, 'stack', 'conf');

/**
 * A config template (of stack/conf unless another folder is given) with its ${NAME}s filled in. A name
 * alone on its line takes a list: a line each, at that line's indent (an empty list drops the line);
 * anywhere else, one value. A name without a value is an error.
 */
export function renderConf(template: string, values: Record<string, ConfValue>, dir = CONF_DIR): string {
  const file = join(dir, template);
  const text = readFileSync(file, 'utf8');
  const value = (name: string): ConfValue => {
    const v = values[name];
    if (v === undefined) throw new Error(`${file}: no value for \${${name}}`);
    return v;
  };
  const one = (name: string): string => {
    const v = value(name);
    if (typeof v === 'object') throw new Error(`${file}: \${${name}} takes one value, not a list`);
    return String(v);
  };
  const lines = text.split('\n').flatMap((line) => {
    const alone = /^(\s*)\$\{(\w+)\}$/.exec(line);
    if (!alone) return [line.replace(/\$\{(\w+)\}/g, (_, name: string) => one(name))];
    const v = value(alone[2]!);
    return (typeof v === 'object' ? v : [String(v)]).map((x) => alone[1] + x);
  });
  return lines.join('\n');
}

/** Writes text to file, making its folder. */
export function writeFile(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Writes a rendered template to file, making its folder. */
export const writeConf = (file: string, template: string, values: Record<string, ConfValue>) =>
  writeFile(file, renderConf(template, values));
