/**
 * What a domain is: the item the pipeline carries (a weather tweet, a sale),
 * its fields with their protobuf numbers, enums and ranges, the brokers it is
 * routed through, and the dimensions the dashboard aggregates by. Validation
 * and the JSON broker encoding (here), the protobuf codec (@tweets/wire), the
 * Valkey key layout, apply script and `/stats` shape (@tweets/store), the load
 * generator, the chaos run and the benchmark are all derived from one such
 * definition.
 */

/** The brokers the pipeline can route items through; a domain uses some or all. */
export const BROKERS = ['kafka', 'rabbitmq'] as const;
export type BrokerPath = (typeof BROKERS)[number];

/** A protobuf enum field. Value i of `values` has the enum number i + 1; `zero` is the enum's 0, never valid input. */
export interface EnumField<V extends string = string> {
  readonly kind: 'enum';
  /** The field's number in the request message. */
  readonly number: number;
  /** The protobuf enum type's name. */
  readonly type: string;
  readonly zero: string;
  readonly values: readonly V[];
}

/** A protobuf int32 field, valid from `min` to `max`; `sample` is the range the load generator draws from. */
export interface IntField {
  readonly kind: 'int';
  readonly number: number;
  readonly min: number;
  readonly max: number;
  readonly sample: readonly [number, number];
}

/**
 * A protobuf string field: `pattern` says which strings are valid (`rule` says it in words, for errors);
 * the load generator draws `<samplePrefix><n>` with n below `sampleCount`.
 */
export interface StringField {
  readonly kind: 'string';
  readonly number: number;
  readonly pattern: RegExp;
  readonly rule: string;
  readonly samplePrefix: string;
  readonly sampleCount: number;
}

/** A protobuf double field, valid from `min` to `max` with at most `decimals` decimals; `sample` is the range the load generator draws from. */
export interface DoubleField {
  readonly kind: 'double';
  readonly number: number;
  readonly min: number;
  readonly max: number;
  readonly decimals: number;
  readonly sample: readonly [number, number];
}

export type Field = EnumField | IntField | StringField | DoubleField;

/**
 * A quantity summed per group that is not a field: worked out from the item, as an integer
 * (Valkey adds integers), and shown multiplied by `scale` (0.01: cents shown as currency units).
 */
export interface DerivedSum {
  readonly of: (item: Item) => number;
  readonly scale: number;
}

export interface Domain<F extends Readonly<Record<string, Field>> = Readonly<Record<string, Field>>> {
  /** Names the domain in config and logs: `weather`. */
  readonly name: string;
  /** What one item is called in messages: `tweet`. */
  readonly item: string;
  /** The item's fields, in the order of their protobuf numbers. */
  readonly fields: F;
  /** The protobuf number of the item's id, an extension beside the seed's fields. */
  readonly idNumber: number;
  /** The REST resource items are POSTed to: `/tweets`. */
  readonly resource: string;
  /**
   * The dashboard's aggregation: items are counted per `groupBy` value and `countBy` value, and `sums` are
   * summed per `groupBy` value (for totals and averages). `countBy` may be `groupBy` itself: a domain with
   * one dimension (sales per category). A sum is an int field, or a `derived` quantity.
   */
  readonly groupBy: keyof F & string;
  readonly countBy: keyof F & string;
  readonly sums: readonly string[];
  readonly derived?: Readonly<Record<string, DerivedSum>>;
  /** The seed's rule for which group a student charts: by the last digit of the student id, 0 to 9. */
  readonly groupByIdDigit?: readonly string[];
  /** The brokers the dispatcher routes every item to by default, each counted on its own. */
  readonly paths: readonly BrokerPath[];
  /** The Valkey key prefix. */
  readonly keyPrefix: string;
  /**
   * The gRPC contract: package, service and proto file (in packages/wire/proto), the rpcs for one item
   * (the seed's), a batch and a stream of batches (extensions), and the batch message's repeated field.
   */
  readonly proto: {
    readonly package: string;
    readonly service: string;
    readonly file: string;
    readonly rpc: { readonly one: string; readonly batch: string; readonly stream: string };
    /** The seed's response message's status field: `status` (weather), `estado` (sales). */
    readonly statusField: string;
    readonly batchField: string;
  };
  /** The reports dashboard: its title and uid, and whether it shows the sums' averages (weather) or totals (sales) per group. */
  readonly dashboard: { readonly title: string; readonly uid: string; readonly sums: 'averages' | 'totals' };
  /** Where items travel through the brokers, and the content types of a message holding one item or a batch. */
  readonly broker: {
    readonly topic: string;
    readonly queue: string;
    readonly consumerGroup: string;
    readonly contentType: string;
    readonly batchContentType: string;
  };
}

/** An item whose fields are not known statically: what the pipeline's generic parts handle. */
export type Item = { id: string } & Record<string, string | number>;

/** The fields of a domain's item, typed from its definition. */
export type FieldsOf<D extends Domain> = {
  -readonly [K in keyof D['fields']]: D['fields'][K] extends EnumField<infer V> ? V : D['fields'][K] extends StringField ? string : number;
};

/** A domain's item with its id. */
export type ItemOf<D extends Domain> = FieldsOf<D> & { id: string };

const lists = new WeakMap<Domain, readonly (Field & { name: string })[]>();

/** The fields in protobuf order, with their names (worked out once per domain: validation runs it per request). */
export function fieldList(d: Domain): readonly (Field & { name: string })[] {
  let list = lists.get(d);
  if (!list) {
    list = Object.entries(d.fields)
      .map(([name, f]) => ({ ...f, name }))
      .sort((a, b) => a.number - b.number);
    lists.set(d, list);
  }
  return list;
}

/** The values of an enum field of the domain (the groups or the counted values). */
export function enumValues(d: Domain, field: string): readonly string[] {
  const f = d.fields[field];
  if (!f || f.kind !== 'enum') throw new Error(`${d.name}: ${field} is not an enum field`);
  return f.values;
}

/** Each sum of the domain as a function of an item (an int field's value, or a derived quantity), and the scale it is shown at. */
export function sumsOf(d: Domain): readonly { name: string; of: (item: Item) => number; scale: number }[] {
  return d.sums.map((name) => {
    const derived = d.derived?.[name];
    if (derived) return { name, ...derived };
    const f = d.fields[name];
    if (!f || f.kind !== 'int') throw new Error(`${d.name}: sum ${name} is neither an int field nor a derived quantity`);
    return { name, of: (item: Item) => item[name] as number, scale: 1 };
  });
}
