/**
 * A direct protobuf codec for a domain's hot messages, derived from its
 * definition: the request (the seed's fields, plus the id) and the batch (a
 * repeated request, plus the stream's `seq`). It writes and reads the same
 * bytes as any protobuf library (the wire tests check it against the proto
 * loader), without building an object per field: the ingest API encodes a
 * batch once, the dispatcher checks it and passes the same bytes to every
 * writer, and the writer decodes it straight into items.
 *
 *   request: each field of the domain at its number (enum or int32: varint; string: length-delimited;
 *            double: 64 bits), the id (string) at idNumber
 *   batch:   1 the items (repeated request, named by proto.batchField), 2 seq (uint64)
 */
import { fieldList, type Domain, type Field, type ItemOf } from './define.js';
import { checkDouble, checkRange, checkString, formatErrors, ID_PATTERN, ID_RULE, type FieldError } from './validate.js';

function varintSize(v: number): number {
  if (v < 0) return 10; // int32 negatives are sign-extended to 64 bits
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  if (v < 0) {
    // Two's complement over 64 bits: the low 32 bits, then all ones.
    let lo = v >>> 0;
    for (let i = 0; i < 4; i++) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = (lo & 0x0f) | 0x70 | 0x80; // bits 28-31 of lo, bits 32-34 set
    for (let i = 0; i < 4; i++) buf[pos++] = 0xff;
    buf[pos++] = 0x01;
    return pos;
  }
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

class Malformed extends Error {}

/** Reads a varint as a JS number (int32 semantics for values past 2^31, as protobuf does for int32 fields). */
function readVarint(buf: Uint8Array, pos: number, end: number): [number, number] {
  let lo = 0;
  let shift = 0;
  let b: number;
  do {
    if (pos >= end) throw new Malformed('truncated varint');
    b = buf[pos++]!;
    if (shift < 32) lo |= (b & 0x7f) << shift;
    shift += 7;
    if (shift > 70) throw new Malformed('varint too long');
  } while (b & 0x80);
  return [lo, pos];
}

/** Reads a varint as a non-negative JS number (up to 2^53), for uint64 fields. */
function readUint(buf: Uint8Array, pos: number, end: number): [number, number] {
  let v = 0;
  let mul = 1;
  let b: number;
  do {
    if (pos >= end) throw new Malformed('truncated varint');
    b = buf[pos++]!;
    v += (b & 0x7f) * mul;
    mul *= 128;
    if (mul > 2 ** 63) throw new Malformed('varint too long');
  } while (b & 0x80);
  return [v, pos];
}

function skipField(buf: Uint8Array, pos: number, end: number, wireType: number): number {
  switch (wireType) {
    case 0:
      return readVarint(buf, pos, end)[1];
    case 1:
      pos += 8;
      break;
    case 2: {
      const [len, p] = readVarint(buf, pos, end);
      if (len < 0) throw new Malformed('negative length');
      pos = p + len;
      break;
    }
    case 5:
      pos += 4;
      break;
    default:
      throw new Malformed(`unsupported wire type ${wireType}`);
  }
  if (pos > end) throw new Malformed('truncated field');
  return pos;
}

export type Decoded<T> = ({ ok: true; value: T } | { ok: false; errors: FieldError[]; message: string }) & {
  /** A batch's `seq` (the stream rpc), 0 when absent. */
  seq?: number;
};

function fail<T>(errors: FieldError[], seq = 0): Decoded<T> {
  return { ok: false, errors, message: formatErrors(errors), seq };
}

/** The bytes of the batch's `seq` (field 2): appended to an encoded batch, they number it. */
export function encodeSeq(seq: number): Buffer {
  const buf = Buffer.allocUnsafe(1 + varintSize(seq));
  buf[0] = 0x10;
  writeVarint(buf, 1, seq);
  return buf;
}

export interface ProtoCodec<D extends Domain> {
  /** One request. Ids are ASCII (ID_PATTERN), so latin1 writes them as UTF-8. */
  encodeRequest(item: ItemOf<D>): Buffer;
  /** A batch of already valid items. */
  encodeBatch(items: readonly ItemOf<D>[]): Buffer;
  /**
   * Decodes and checks one request with the API's rules; an empty id is
   * replaced by `makeId()` (a client generated from the seed's proto sends none).
   */
  decodeRequest(bytes: Uint8Array, makeId: () => string): Decoded<ItemOf<D>>;
  /**
   * Decodes and checks a batch: every item must carry its id and pass the
   * API's rules. Any problem fails the whole batch, naming each item by index.
   */
  decodeBatch(bytes: Uint8Array, maxItems?: number): Decoded<ItemOf<D>[]>;
}

/** A field as the codec handles it: its key byte, wire type, and an enum's numbers by name. */
type Slot = Field & { name: string; tag: number; wireType: number; numberOf?: Record<string, number> };

const WIRE_TYPE: Record<Field['kind'], number> = { enum: 0, int: 0, string: 2, double: 1 };

export function protoCodec<D extends Domain>(d: D): ProtoCodec<D> {
  const slots: Slot[] = fieldList(d).map((f) => ({
    ...f,
    tag: (f.number << 3) | WIRE_TYPE[f.kind],
    wireType: WIRE_TYPE[f.kind],
    ...(f.kind === 'enum' ? { numberOf: Object.fromEntries(f.values.map((v, i) => [v, i + 1])) } : {}),
  }));
  if ([...slots.map((s) => s.number), d.idNumber].some((n) => n < 1 || n > 15))
    throw new Error(`${d.name}: field numbers must be 1 to 15 (one-byte tags)`);
  const idTag = (d.idNumber << 3) | 2;
  /** The slot of each field number, for decoding. */
  const byNumber: (Slot | undefined)[] = [];
  for (const s of slots) byNumber[s.number] = s;
  const n = slots.length;

  /** The value of each varint field on the wire: an enum's number, an int itself. */
  const wireValue = (s: Slot, t: ItemOf<D>): number => {
    const v = (t as Record<string, string | number>)[s.name]!;
    return s.numberOf ? (s.numberOf[v as string] ?? 0) : (v as number);
  };
  const value = (s: Slot, t: ItemOf<D>) => (t as Record<string, string | number>)[s.name]!;

  function requestSize(t: ItemOf<D>): number {
    let size = 0;
    for (const s of slots) {
      if (s.kind === 'string') {
        const len = Buffer.byteLength(value(s, t) as string);
        if (len > 0) size += 1 + varintSize(len) + len;
      } else if (s.kind === 'double') {
        if (value(s, t) !== 0) size += 9;
      } else {
        const v = wireValue(s, t);
        if (v !== 0) size += 1 + varintSize(v);
      }
    }
    const idLen = Buffer.byteLength(t.id);
    if (idLen > 0) size += 1 + varintSize(idLen) + idLen;
    return size;
  }

  function writeRequest(buf: Buffer, pos: number, t: ItemOf<D>): number {
    // proto3 leaves zero values out
    for (const s of slots) {
      if (s.kind === 'string') {
        const v = value(s, t) as string;
        const len = Buffer.byteLength(v);
        if (len === 0) continue;
        buf[pos++] = s.tag;
        pos = writeVarint(buf, pos, len);
        pos += buf.write(v, pos, 'utf8');
      } else if (s.kind === 'double') {
        const v = value(s, t) as number;
        if (v === 0) continue;
        buf[pos++] = s.tag;
        pos = buf.writeDoubleLE(v, pos);
      } else {
        const v = wireValue(s, t);
        if (v === 0) continue;
        buf[pos++] = s.tag;
        pos = writeVarint(buf, pos, v);
      }
    }
    const idLen = Buffer.byteLength(t.id);
    if (idLen > 0) {
      buf[pos++] = idTag;
      pos = writeVarint(buf, pos, idLen);
      pos += buf.write(t.id, pos, 'latin1');
    }
    return pos;
  }

  function decodeRequestAt(
    buf: Uint8Array,
    start: number,
    end: number,
    makeId: () => string,
    at: string,
    errors: FieldError[],
  ): ItemOf<D> | undefined {
    const values = new Array<number | string>(n + 1);
    for (const s of slots) values[s.number] = s.kind === 'string' ? '' : 0;
    let id = '';
    let pos = start;
    while (pos < end) {
      const [key, p] = readVarint(buf, pos, end);
      pos = p;
      const field = key >>> 3;
      const wt = key & 7;
      const s = byNumber[field];
      if (s && s.wireType === wt) {
        if (wt === 0) [values[s.number]!, pos] = readVarint(buf, pos, end);
        else if (wt === 1) {
          if (pos + 8 > end) throw new Malformed(`truncated ${s.name}`);
          values[s.number] = Buffer.from(buf.buffer, buf.byteOffset + pos, 8).readDoubleLE(0);
          pos += 8;
        } else {
          const [len, q] = readVarint(buf, pos, end);
          if (len < 0 || q + len > end) throw new Malformed(`truncated ${s.name}`);
          values[s.number] = Buffer.from(buf.buffer, buf.byteOffset + q, len).toString('utf8');
          pos = q + len;
        }
      } else if (field === d.idNumber && wt === 2) {
        const [len, q] = readVarint(buf, pos, end);
        if (len < 0 || q + len > end) throw new Malformed('truncated id');
        id = Buffer.from(buf.buffer, buf.byteOffset + q, len).toString('utf8');
        pos = q + len;
      } else pos = skipField(buf, pos, end, wt);
    }
    const before = errors.length;
    const item: Record<string, string | number> = { id: '' };
    for (const s of slots) {
      const v = values[s.number]!;
      if (s.kind === 'enum') {
        const name = s.values[(v as number) - 1];
        if (name === undefined)
          errors.push({ field: `${at}${s.name}`, reason: `must be one of ${s.values.join(', ')}; got ${v === 0 ? s.zero : v}` });
        else item[s.name] = name;
      } else {
        const why =
          s.kind === 'int' ? checkRange(s, v as number) : s.kind === 'string' ? checkString(s, v as string) : checkDouble(s, v as number);
        if (why) errors.push({ field: `${at}${s.name}`, reason: why });
        else item[s.name] = v;
      }
    }
    if (id === '') id = makeId();
    if (!ID_PATTERN.test(id)) errors.push({ field: `${at}id`, reason: ID_RULE });
    if (errors.length > before) return undefined;
    item.id = id;
    return item as ItemOf<D>;
  }

  return {
    encodeRequest(t) {
      const buf = Buffer.allocUnsafe(requestSize(t));
      writeRequest(buf, 0, t);
      return buf;
    },
    encodeBatch(items) {
      let size = 0;
      const sizes = new Array<number>(items.length);
      for (let i = 0; i < items.length; i++) {
        const s = requestSize(items[i]!);
        sizes[i] = s;
        size += 1 + varintSize(s) + s;
      }
      const buf = Buffer.allocUnsafe(size);
      let pos = 0;
      for (let i = 0; i < items.length; i++) {
        buf[pos++] = 0x0a;
        pos = writeVarint(buf, pos, sizes[i]!);
        pos = writeRequest(buf, pos, items[i]!);
      }
      return buf;
    },
    decodeRequest(bytes, makeId) {
      const errors: FieldError[] = [];
      try {
        const t = decodeRequestAt(bytes, 0, bytes.length, makeId, '', errors);
        return t ? { ok: true, value: t } : fail(errors);
      } catch (err) {
        return fail([{ field: '', reason: `malformed request: ${(err as Error).message}` }]);
      }
    },
    decodeBatch(bytes, maxItems = 100_000) {
      const errors: FieldError[] = [];
      const items: ItemOf<D>[] = [];
      const noId = () => '';
      let index = 0;
      let seq = 0;
      try {
        let pos = 0;
        const end = bytes.length;
        while (pos < end) {
          const [key, p] = readVarint(bytes, pos, end);
          pos = p;
          if (key === 0x10) {
            [seq, pos] = readUint(bytes, pos, end);
          } else if (key === 0x0a) {
            const [len, q] = readVarint(bytes, pos, end);
            if (len < 0 || q + len > end) throw new Malformed(`truncated ${d.item}`);
            if (++index > maxItems) return fail([{ field: d.proto.batchField, reason: `must hold at most ${maxItems} ${d.item}s` }], seq);
            const t = decodeRequestAt(bytes, q, q + len, noId, `${d.proto.batchField}[${index - 1}].`, errors);
            if (t) items.push(t);
            pos = q + len;
          } else pos = skipField(bytes, pos, end, key & 7);
        }
      } catch (err) {
        return fail([{ field: '', reason: `malformed batch: ${(err as Error).message}` }], seq);
      }
      return errors.length > 0 ? fail(errors, seq) : { ok: true, value: items, seq };
    },
  };
}
