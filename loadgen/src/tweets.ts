import { fieldList, type Domain, type FieldsOf } from '@tweets/domain';

/** mulberry32: a small seeded PRNG, so a run's items can be reproduced. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random valid item of the domain: each enum value equally likely, integers uniform over the field's sample range. */
export function randomItem<D extends Domain>(d: D, next: () => number): FieldsOf<D> {
  const out: Record<string, string | number> = {};
  for (const f of fieldList(d)) {
    out[f.name] = f.kind === 'enum' ? f.values[Math.floor(next() * f.values.length)]! : f.sample[0] + Math.floor(next() * (f.sample[1] - f.sample[0] + 1));
  }
  return out as FieldsOf<D>;
}
