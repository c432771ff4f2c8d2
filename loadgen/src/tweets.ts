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

/**
 * A random valid item of the domain: each enum value equally likely, integers uniform over the field's
 * sample range, doubles too at their decimals, strings one of the field's sample names.
 */
export function randomItem<D extends Domain>(d: D, next: () => number): FieldsOf<D> {
  const out: Record<string, string | number> = {};
  const uniform = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  for (const f of fieldList(d)) {
    if (f.kind === 'enum') out[f.name] = f.values[Math.floor(next() * f.values.length)]!;
    else if (f.kind === 'string') out[f.name] = `${f.samplePrefix}${Math.floor(next() * f.sampleCount)}`;
    else if (f.kind === 'double') {
      const unit = 10 ** f.decimals;
      out[f.name] = uniform(f.sample[0] * unit, f.sample[1] * unit) / unit;
    } else out[f.name] = uniform(f.sample[0], f.sample[1]);
  }
  return out as FieldsOf<D>;
}
