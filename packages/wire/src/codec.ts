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
import {
  checkDouble,
  checkRange,
  checkString,
  fieldList,
  formatErrors,
  ID_PATTERN,
  ID_RULE,
  type Domain,
  type Field,
  type FieldError,
  type ItemOf,
} from '@tweets/domain';

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

/** A domain's request as laid out on the wire: its fields' slots, by order and by number, and the id's key byte. */
interface Layout<D extends Domain> {
  d: D;
  slots: Slot[];
  byNumber: (Slot | undefined)[];
  idTag: number;
}

const WIRE_TYPE: Record<Field['kind'], number> = { enum: 0, int: 0, string: 2, double: 1 };

function layoutOf<D extends Domain>(d: D): Layout<D> {
  const slots: Slot[] = fieldList(d).map((f) => ({
    ...f,
    tag: (f.number << 3) | WIRE_TYPE[f.kind],
    wireType: WIRE_TYPE[f.kind],
    ...(f.kind === 'enum' ? { numberOf: Object.fromEntries(f.values.map((v, i) => [v, i + 1])) } : {}),
  }));
  if ([...slots.map((s) => s.number), d.idNumber].some((n) => n < 1 || n > 15))
    throw new Error(`${d.name}: field numbers must be 1 to 15 (one-byte tags)`);
  const byNumber: (Slot | undefined)[] = [];
  for (const s of slots) byNumber[s.number] = s;
  return { d, slots, byNumber, idTag: (d.idNumber << 3) | 2 };
}

const valueOf = (s: Slot, t: object) => (t as Record<string, string | number>)[s.name]!;

/** The value of a varint field on the wire: an enum's number, an int itself. */
const wireValue = (s: Slot, t: object): number => {
  const v = valueOf(s, t);
  return s.numberOf ? (s.numberOf[v as string] ?? 0) : (v as number);
};

/** A field's encoded size, 0 for a zero value (proto3 leaves those out). */
function slotSize(s: Slot, t: object): number {
  if (s.kind === 'string') {
    const len = Buffer.byteLength(valueOf(s, t) as string);
    return len > 0 ? 1 + varintSize(len) + len : 0;
  }
  if (s.kind === 'double') return valueOf(s, t) !== 0 ? 9 : 0;
  const v = wireValue(s, t);
  return v !== 0 ? 1 + varintSize(v) : 0;
}

function requestSize(l: Layout<Domain>, t: { id: string }): number {
  let size = 0;
  for (const s of l.slots) size += slotSize(s, t);
  const idLen = Buffer.byteLength(t.id);
  return idLen > 0 ? size + 1 + varintSize(idLen) + idLen : size;
}

function writeString(buf: Buffer, pos: number, tag: number, v: string, encoding: 'utf8' | 'latin1'): number {
  const len = Buffer.byteLength(v);
  if (len === 0) return pos;
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, len);
  return pos + buf.write(v, pos, encoding);
}

function writeSlot(buf: Buffer, pos: number, s: Slot, t: object): number {
  if (s.kind === 'string') return writeString(buf, pos, s.tag, valueOf(s, t) as string, 'utf8');
  if (s.kind === 'double') {
    const v = valueOf(s, t) as number;
    if (v === 0) return pos;
    buf[pos++] = s.tag;
    return buf.writeDoubleLE(v, pos);
  }
  const v = wireValue(s, t);
  if (v === 0) return pos;
  buf[pos++] = s.tag;
  return writeVarint(buf, pos, v);
}

/** Writes a request at `pos`; ids are ASCII (ID_PATTERN), so latin1 writes them as UTF-8. */
function writeRequest(l: Layout<Domain>, buf: Buffer, pos: number, t: { id: string }): number {
  for (const s of l.slots) pos = writeSlot(buf, pos, s, t);
  return writeString(buf, pos, l.idTag, t.id, 'latin1');
}

function encodeBatch(l: Layout<Domain>, items: readonly { id: string }[]): Buffer {
  const sizes = items.map((t) => requestSize(l, t));
  const buf = Buffer.allocUnsafe(sizes.reduce((a, s) => a + 1 + varintSize(s) + s, 0));
  let pos = 0;
  for (let i = 0; i < items.length; i++) {
    buf[pos++] = 0x0a;
    pos = writeVarint(buf, pos, sizes[i]!);
    pos = writeRequest(l, buf, pos, items[i]!);
  }
  return buf;
}

/** A length-delimited field's bytes as a string. */
function readString(buf: Uint8Array, pos: number, end: number, what: string): [string, number] {
  const [len, q] = readVarint(buf, pos, end);
  if (len < 0 || q + len > end) throw new Malformed(`truncated ${what}`);
  return [Buffer.from(buf.buffer, buf.byteOffset + q, len).toString('utf8'), q + len];
}

/** Reads one known field's value at `pos`, by its wire type. */
function readSlot(buf: Uint8Array, pos: number, end: number, s: Slot): [number | string, number] {
  if (s.wireType === 0) return readVarint(buf, pos, end);
  if (s.wireType === 2) return readString(buf, pos, end, s.name);
  if (pos + 8 > end) throw new Malformed(`truncated ${s.name}`);
  return [Buffer.from(buf.buffer, buf.byteOffset + pos, 8).readDoubleLE(0), pos + 8];
}

/** A request's raw values by field number (zero values where absent) and its id ('' if absent); unknown fields skipped. */
function readFields(l: Layout<Domain>, buf: Uint8Array, start: number, end: number): { values: (number | string)[]; id: string } {
  const values = new Array<number | string>(l.slots.length + 1);
  for (const s of l.slots) values[s.number] = s.kind === 'string' ? '' : 0;
  let id = '';
  let pos = start;
  while (pos < end) {
    const [key, p] = readVarint(buf, pos, end);
    const field = key >>> 3;
    const wt = key & 7;
    const s = l.byNumber[field];
    if (s && s.wireType === wt) [values[s.number]!, pos] = readSlot(buf, p, end, s);
    else if (field === l.d.idNumber && wt === 2) [id, pos] = readString(buf, p, end, 'id');
    else pos = skipField(buf, p, end, wt);
  }
  return { values, id };
}

/** Why a field's raw value is refused (undefined: it is valid), and the value the item holds. */
function checkSlot(s: Slot, v: number | string): { why?: string; value: string | number } {
  if (s.kind === 'enum') {
    const name = s.values[(v as number) - 1];
    return name === undefined ? { why: `must be one of ${s.values.join(', ')}; got ${v === 0 ? s.zero : v}`, value: v } : { value: name };
  }
  const why =
    s.kind === 'int' ? checkRange(s, v as number) : s.kind === 'string' ? checkString(s, v as string) : checkDouble(s, v as number);
  return why ? { why, value: v } : { value: v };
}

/**
 * Decodes and checks the request between `start` and `end` with the API's rules, each problem pushed to
 * `errors` under `at` + the field's name; an empty id is replaced by `makeId()`.
 */
function decodeRequestAt<D extends Domain>(
  l: Layout<D>,
  buf: Uint8Array,
  range: { start: number; end: number },
  makeId: () => string,
  at: string,
  errors: FieldError[],
): ItemOf<D> | undefined {
  const { values, id: read } = readFields(l, buf, range.start, range.end);
  const before = errors.length;
  const item: Record<string, string | number> = { id: '' };
  for (const s of l.slots) {
    const { why, value } = checkSlot(s, values[s.number]!);
    if (why) errors.push({ field: `${at}${s.name}`, reason: why });
    else item[s.name] = value;
  }
  const id = read === '' ? makeId() : read;
  if (!ID_PATTERN.test(id)) errors.push({ field: `${at}id`, reason: ID_RULE });
  if (errors.length > before) return undefined;
  item.id = id;
  return item as ItemOf<D>;
}

/** Decodes and checks a batch: every item needs its id; any problem fails the whole batch, naming each item by index. */
function decodeBatch<D extends Domain>(l: Layout<D>, bytes: Uint8Array, maxItems: number): Decoded<ItemOf<D>[]> {
  const { d } = l;
  const errors: FieldError[] = [];
  const items: ItemOf<D>[] = [];
  let index = 0;
  let seq = 0;
  try {
    for (let pos = 0; pos < bytes.length;) {
      const [key, p] = readVarint(bytes, pos, bytes.length);
      if (key === 0x10) [seq, pos] = readUint(bytes, p, bytes.length);
      else if (key !== 0x0a) pos = skipField(bytes, p, bytes.length, key & 7);
      else {
        const [len, q] = readVarint(bytes, p, bytes.length);
        if (len < 0 || q + len > bytes.length) throw new Malformed(`truncated ${d.item}`);
        if (++index > maxItems) return fail([{ field: d.proto.batchField, reason: `must hold at most ${maxItems} ${d.item}s` }], seq);
        const t = decodeRequestAt(l, bytes, { start: q, end: q + len }, () => '', `${d.proto.batchField}[${index - 1}].`, errors);
        if (t) items.push(t);
        pos = q + len;
      }
    }
  } catch (err) {
    return fail([{ field: '', reason: `malformed batch: ${(err as Error).message}` }], seq);
  }
  return errors.length > 0 ? fail(errors, seq) : { ok: true, value: items, seq };
}

export function protoCodec<D extends Domain>(d: D): ProtoCodec<D> {
  const l = layoutOf(d);
  return {
    encodeRequest(t) {
      const buf = Buffer.allocUnsafe(requestSize(l, t));
      writeRequest(l, buf, 0, t);
      return buf;
    },
    encodeBatch: (items) => encodeBatch(l, items),
    decodeRequest(bytes, makeId) {
      const errors: FieldError[] = [];
      try {
        const t = decodeRequestAt(l, bytes, { start: 0, end: bytes.length }, makeId, '', errors);
        return t ? { ok: true, value: t } : fail(errors);
      } catch (err) {
        return fail([{ field: '', reason: `malformed request: ${(err as Error).message}` }]);
      }
    },
    decodeBatch: (bytes, maxItems = 100_000) => decodeBatch(l, bytes, maxItems),
  };
}
