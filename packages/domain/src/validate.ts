import { fieldList, type Domain, type Field, type FieldsOf, type Item, type ItemOf } from './define.js';

/** Ids are the client's Idempotency-Key or one we make: short, printable, safe in a key name. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const ID_RULE = 'must be 1 to 128 characters of A-Z a-z 0-9 . _ : -';

export interface FieldError {
  /** The name of the offending field, or '' for the body itself. */
  field: string;
  reason: string;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Why a value is not valid for a field (its JSON form), or undefined if it is. */
function checkJson(f: Field, v: unknown): string | undefined {
  if (f.kind === 'enum') {
    if (typeof v !== 'string') return `must be a string, one of ${f.values.join(', ')}; got ${typeName(v)}`;
    if (!f.values.includes(v)) return `must be one of ${f.values.join(', ')}; got ${JSON.stringify(v.slice(0, 40))}`;
    return undefined;
  }
  if (typeof v !== 'number') return `must be an integer from ${f.min} to ${f.max}; got ${typeName(v)}`;
  if (!Number.isInteger(v)) return `must be an integer; got ${v}`;
  return checkRange(f, v);
}

/** Why an integer is out of a field's range, or undefined: the one range rule, for JSON and protobuf alike. */
export function checkRange(f: Field & { kind: 'int' }, v: number): string | undefined {
  return v < f.min || v > f.max ? `must be from ${f.min} to ${f.max}; got ${v}` : undefined;
}

/**
 * Checks a parsed JSON body against the item's shape: exactly the domain's
 * fields, the seed's enum names, integers in range. Reports every problem.
 */
export function validateFields<D extends Domain>(d: D, body: unknown): Validation<FieldsOf<D>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '', reason: `body must be a JSON object; got ${typeName(body)}` }] };
  }
  const o = body as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const f of fieldList(d)) {
    if (!Object.hasOwn(o, f.name)) errors.push({ field: f.name, reason: 'is required' });
  }
  for (const k of Object.keys(o)) {
    if (!Object.hasOwn(d.fields, k)) errors.push({ field: k.slice(0, 64), reason: `is not a field of a ${d.item}` });
  }
  const value: Record<string, unknown> = {};
  for (const f of fieldList(d)) {
    if (!Object.hasOwn(o, f.name)) continue;
    const why = checkJson(f, o[f.name]);
    if (why) errors.push({ field: f.name, reason: why });
    else value[f.name] = o[f.name];
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, value: value as FieldsOf<D> };
}

export function validateId(id: unknown, field = 'id'): Validation<string> {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) return { ok: false, errors: [{ field, reason: ID_RULE }] };
  return { ok: true, value: id };
}

/** A whole item with its id, as it travels between services and through the brokers. */
export function validateItem<D extends Domain>(d: D, body: unknown): Validation<ItemOf<D>> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '', reason: `must be a JSON object; got ${typeName(body)}` }] };
  }
  const { id, ...fields } = body as Record<string, unknown>;
  const idCheck = validateId(id);
  const fieldCheck = validateFields(d, fields);
  const errors = [...(idCheck.ok ? [] : idCheck.errors), ...(fieldCheck.ok ? [] : fieldCheck.errors)];
  if (!idCheck.ok || !fieldCheck.ok) return { ok: false, errors };
  return { ok: true, value: { id: idCheck.value, ...fieldCheck.value } as ItemOf<D> };
}

export function formatErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => (e.field ? `${e.field} ${e.reason}` : e.reason)).join('; ');
}

export type { Item };
