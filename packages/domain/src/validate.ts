import { fieldList, type DoubleField, type Domain, type Field, type FieldsOf, type Item, type ItemOf, type StringField } from './define.js';

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

/**
 * A value for a field in its JSON form: the value (an enum's name), or why it is not valid. With
 * `enumNumbers`, an enum may also be given by its number, as the proto3 JSON mapping allows (1 is the
 * first value; 0, the enum's zero value, and other numbers are refused like unknown names).
 */
function checkJson(f: Field, v: unknown, enumNumbers: boolean): { value: unknown } | { why: string } {
  if (f.kind === 'enum') {
    const names = f.values.join(', ');
    const numbers = enumNumbers ? ` (or their numbers, 1 to ${f.values.length})` : '';
    if (enumNumbers && typeof v === 'number') {
      const name = Number.isInteger(v) ? f.values[v - 1] : undefined;
      return name ? { value: name } : { why: `must be one of ${names}${numbers}; got ${v}${v === 0 ? ` (${f.zero})` : ''}` };
    }
    if (typeof v !== 'string') return { why: `must be a string, one of ${names}${numbers}; got ${typeName(v)}` };
    if (!f.values.includes(v)) return { why: `must be one of ${names}${numbers}; got ${JSON.stringify(v.slice(0, 40))}` };
    return { value: v };
  }
  if (f.kind === 'string') {
    if (typeof v !== 'string') return { why: `must be a string, ${f.rule}; got ${typeName(v)}` };
    const why = checkString(f, v);
    return why ? { why } : { value: v };
  }
  if (f.kind === 'double') {
    if (typeof v !== 'number') return { why: `must be a number from ${f.min} to ${f.max}; got ${typeName(v)}` };
    const why = checkDouble(f, v);
    return why ? { why } : { value: v };
  }
  if (typeof v !== 'number') return { why: `must be an integer from ${f.min} to ${f.max}; got ${typeName(v)}` };
  if (!Number.isInteger(v)) return { why: `must be an integer; got ${v}` };
  const why = checkRange(f, v);
  return why ? { why } : { value: v };
}

/** Why an integer is out of a field's range, or undefined: the one range rule, for JSON and protobuf alike. */
export function checkRange(f: Field & { kind: 'int' }, v: number): string | undefined {
  return v < f.min || v > f.max ? `must be from ${f.min} to ${f.max}; got ${v}` : undefined;
}

/** Why a string is not valid for a field, or undefined (JSON and protobuf alike). */
export function checkString(f: StringField, v: string): string | undefined {
  return f.pattern.test(v) ? undefined : `${f.rule}; got ${JSON.stringify(v.slice(0, 40))}${v.length > 40 ? '...' : ''}`;
}

/**
 * Why a number is not valid for a double field, or undefined (JSON and protobuf alike): finite, in range,
 * and with at most the field's decimals (19.99 is a price; 19.999 is refused, not rounded).
 */
export function checkDouble(f: DoubleField, v: number): string | undefined {
  if (!Number.isFinite(v)) return `must be a finite number; got ${v}`;
  if (v < f.min || v > f.max) return `must be from ${f.min} to ${f.max}; got ${v}`;
  const scaled = v * 10 ** f.decimals;
  if (Math.abs(scaled - Math.round(scaled)) > 1e-6 * Math.max(1, Math.abs(scaled)))
    return `must have at most ${f.decimals} decimals; got ${v}`;
  return undefined;
}

/**
 * Checks a parsed JSON body against the item's shape: exactly the domain's
 * fields, the seed's enum names (and, with `enumNumbers`, their numbers, which
 * become names), integers in range. Reports every problem.
 */
export function validateFields<D extends Domain>(d: D, body: unknown, opts: { enumNumbers?: boolean } = {}): Validation<FieldsOf<D>> {
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
    const r = checkJson(f, o[f.name], opts.enumNumbers ?? false);
    if ('why' in r) errors.push({ field: f.name, reason: r.why });
    else value[f.name] = r.value;
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
