import { MUNICIPALITIES, WEATHERS, type Municipality, type TweetFields, type Weather } from '@tweets/tweet';

/** mulberry32: a small seeded PRNG, so a run's tweets can be reproduced. */
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

export function randomTweet(next: () => number): TweetFields {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return {
    municipality: pick(MUNICIPALITIES),
    weather: pick(WEATHERS),
    temperature: 10 + Math.floor(next() * 21),
    humidity: 30 + Math.floor(next() * 66),
  };
}

export type Breakdown = Record<Municipality, Record<Weather, number>>;

export function emptyBreakdown(): Breakdown {
  return Object.fromEntries(MUNICIPALITIES.map((m) => [m, Object.fromEntries(WEATHERS.map((w) => [w, 0]))])) as Breakdown;
}
