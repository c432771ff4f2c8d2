import { fieldList, type Domain, type Item, type ItemOf } from './define.js';
import { typeName, validateItem, type FieldError, type Validation } from './validate.js';

/**
 * The broker encoding: one item as compact JSON, `id` first and the fields in
 * protobuf order; a batch as a JSON array of those.
 */
export interface JsonCodec<D extends Domain> {
  /** One item as JSON text. */
  json(item: Item): string;
  /** The broker message of one item. */
  encode(item: Item): Buffer;
  /** The broker message of a batch. */
  encodeBatch(items: readonly Item[]): Buffer;
  /**
   * Items as batch messages of up to `max` each, in order. A message is named
   * by its first item and how many follow (`<id>+<n>`): the name only tells
   * messages apart in logs and the DLQ.
   */
  encodeBatches(items: readonly Item[], max: number): { body: Buffer; messageId: string; count: number }[];
  /** Decodes and checks a broker message holding one item; a message that fails is poison, never applied. */
  decode(message: Buffer | Uint8Array | string): Validation<ItemOf<D>>;
  /**
   * Decodes a batch message (a JSON array of items). Each element is checked
   * alone: the valid ones are applied, each invalid one is poison on its own.
   * A message that is not a JSON array is poison whole.
   */
  decodeBatch(message: Buffer | Uint8Array | string): Validation<DecodedBatch<ItemOf<D>>>;
}

/** What a batch message holds: its valid items, and each invalid element (its JSON) with why. */
export interface DecodedBatch<T> {
  items: T[];
  invalid: { index: number; json: string; errors: FieldError[] }[];
}

/** A broker message's JSON (bytes, or their text); not JSON is poison. */
function parseMessage(message: Buffer | Uint8Array | string): Validation<unknown> {
  try {
    const text =
      typeof message === 'string' ? message : Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('utf8');
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, errors: [{ field: '', reason: `not JSON: ${(err as Error).message}` }] };
  }
}

export function jsonCodec<D extends Domain>(d: D): JsonCodec<D> {
  // Each field's JSON text, built once: enum names are quoted as they are (they need no escaping), other
  // strings are escaped, numbers are written as they are.
  const parts = fieldList(d).map((f) => ({ name: f.name, prefix: `,"${f.name}":`, kind: f.kind }));
  const json = (t: Item): string => {
    let s = `{"id":${JSON.stringify(t.id)}`;
    for (const p of parts) {
      const v = t[p.name];
      s += p.kind === 'enum' ? `${p.prefix}"${v}"` : p.kind === 'string' ? `${p.prefix}${JSON.stringify(v)}` : `${p.prefix}${v}`;
    }
    return `${s}}`;
  };
  const encodeBatch = (items: readonly Item[]): Buffer => {
    let s = '[';
    for (let i = 0; i < items.length; i++) s += (i === 0 ? '' : ',') + json(items[i]!);
    return Buffer.from(`${s}]`);
  };
  return {
    json,
    encode: (t) => Buffer.from(json(t)),
    encodeBatch,
    encodeBatches(items, max) {
      const out = [];
      for (let i = 0; i < items.length; i += max) {
        const part = items.slice(i, i + max);
        out.push({ body: encodeBatch(part), messageId: `${part[0]!.id}+${part.length - 1}`, count: part.length });
      }
      return out;
    },
    decode(message) {
      const p = parseMessage(message);
      return p.ok ? validateItem(d, p.value) : p;
    },
    decodeBatch(message) {
      const p = parseMessage(message);
      if (!p.ok) return p;
      const parsed = p.value;
      if (!Array.isArray(parsed))
        return { ok: false, errors: [{ field: '', reason: `a batch must be a JSON array; got ${typeName(parsed)}` }] };
      const out: DecodedBatch<ItemOf<D>> = { items: [], invalid: [] };
      for (let i = 0; i < parsed.length; i++) {
        const v = validateItem(d, parsed[i]);
        if (v.ok) out.items.push(v.value);
        else out.invalid.push({ index: i, json: JSON.stringify(parsed[i]) ?? 'undefined', errors: v.errors });
      }
      return { ok: true, value: out };
    },
  };
}
