import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './layout.js';

/** A value for a template's ${NAME}: one value, or a list of lines. */
export type ConfValue = string | number | readonly string[];

/**
 * A config file of stack/conf with its ${NAME}s filled in. A name alone on its line takes a list: a line
 * each, at that line's indent (an empty list drops the line); anywhere else, one value. A name without a
 * value, or a value no name asks for, is an error.
 */
export function renderConf(template: string, values: Record<string, ConfValue>): string {
  const text = readFileSync(join(ROOT, 'stack', 'conf', template), 'utf8');
  const used = new Set<string>();
  const value = (name: string): ConfValue => {
    const v = values[name];
    if (v === undefined) throw new Error(`stack/conf/${template}: no value for \${${name}}`);
    used.add(name);
    return v;
  };
  const one = (name: string): string => {
    const v = value(name);
    if (typeof v === 'object') throw new Error(`stack/conf/${template}: \${${name}} takes one value, not a list`);
    return String(v);
  };
  const lines = text.split('\n').flatMap((line) => {
    const alone = /^(\s*)\$\{(\w+)\}$/.exec(line);
    if (!alone) return [line.replace(/\$\{(\w+)\}/g, (_, name: string) => one(name))];
    const v = value(alone[2]!);
    return (typeof v === 'object' ? v : [String(v)]).map((x) => alone[1] + x);
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`stack/conf/${template}: no \${...} for ${unused.join(', ')}`);
  return lines.join('\n');
}

/** Writes a rendered template to file, making its folder. */
export function writeConf(file: string, template: string, values: Record<string, ConfValue>): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, renderConf(template, values));
}
