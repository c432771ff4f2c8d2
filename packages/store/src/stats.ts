import type { Domain, EnumField } from '@tweets/domain';

/** The values of a domain's enum field, as a type. */
type ValuesOf<D extends Domain, K extends keyof D['fields']> = D['fields'][K] extends EnumField<infer V> ? V : never;
export type GroupOf<D extends Domain> = ValuesOf<D, D['groupBy']>;
export type CountedOf<D extends Domain> = ValuesOf<D, D['countBy']>;

/** Counts per (group, counted value): the seed's bar chart for each group. */
export type BreakdownOf<D extends Domain> = Record<GroupOf<D>, Record<CountedOf<D>, number>>;

/** The name of a path's totals per counted value in `/stats`: `byWeather` for the weather domain. */
export type ByKey<D extends Domain> = `by${Capitalize<D['countBy']>}`;

export function byKey<D extends Domain>(d: D): ByKey<D> {
  return `by${d.countBy[0]!.toUpperCase()}${d.countBy.slice(1)}` as ByKey<D>;
}

/** What `GET /stats` answers for one broker path: every group and value, zeros included. */
export type PathStatsOf<D extends Domain> = {
  total: number;
  counts: BreakdownOf<D>;
  averages: Record<GroupOf<D>, { reports: number } & Record<D['sums'][number], number | null>>;
  /** Per group: its reports and the total of each sum (units sold, revenue). */
  totals: Record<GroupOf<D>, { reports: number } & Record<D['sums'][number], number>>;
} & Record<ByKey<D>, Record<CountedOf<D>, number>>;

/** What `GET /stats` answers: per broker path of the domain. */
export interface StatsOf<D extends Domain> {
  paths: Record<D['paths'][number], PathStatsOf<D>>;
}

function groupsAndValues(d: Domain): { groups: readonly string[]; counted: readonly string[] } {
  const g = d.fields[d.groupBy] as EnumField;
  const c = d.fields[d.countBy] as EnumField;
  return { groups: g.values, counted: c.values };
}

/** Every (group, counted value) at zero. */
export function emptyBreakdown<D extends Domain>(d: D): BreakdownOf<D> {
  const { groups, counted } = groupsAndValues(d);
  return Object.fromEntries(groups.map((g) => [g, Object.fromEntries(counted.map((c) => [c, 0]))])) as BreakdownOf<D>;
}

/** after - before, per (group, counted value). */
export function breakdownDelta<D extends Domain>(
  d: D,
  before: { counts: BreakdownOf<D> },
  after: { counts: BreakdownOf<D> },
): BreakdownOf<D> {
  const { groups, counted } = groupsAndValues(d);
  const b = before.counts as Record<string, Record<string, number>>;
  const a = after.counts as Record<string, Record<string, number>>;
  return Object.fromEntries(groups.map((g) => [g, Object.fromEntries(counted.map((c) => [c, a[g]![c]! - b[g]![c]!]))])) as BreakdownOf<D>;
}

/**
 * The bar chart's table for one group: a row per counted value, a column per
 * path (`[{weather: 'sunny', kafka: 12, rabbitmq: 12}, ...]`), as the
 * dashboards read it (GET /stats/breakdown).
 */
export function breakdownRows<D extends Domain>(d: D, stats: StatsOf<D>, group: GroupOf<D>): Record<string, string | number>[] {
  const { counted } = groupsAndValues(d);
  const counts = (p: string) => (stats.paths as Record<string, PathStatsOf<D>>)[p]!.counts as Record<string, Record<string, number>>;
  // One dimension (sales per category): a row per value with its reports, the group's and every other's.
  if (d.countBy === d.groupBy)
    return counted.map((c) => ({ [d.countBy]: c, ...Object.fromEntries(d.paths.map((p) => [p, counts(p)[c]![c]!])) }));
  return counted.map((c) => ({
    [d.countBy]: c,
    ...Object.fromEntries(
      d.paths.map((p) => [
        p,
        ((stats.paths as Record<string, PathStatsOf<D>>)[p]!.counts as Record<string, Record<string, number>>)[group]![c]!,
      ]),
    ),
  }));
}

/** One row per path for one group: its reports and the averages of the summed fields (GET /stats/summary). */
export function summaryRows<D extends Domain>(d: D, stats: StatsOf<D>, group: GroupOf<D>): Record<string, string | number | null>[] {
  return d.paths.map((p) => ({
    path: p,
    ...((stats.paths as Record<string, PathStatsOf<D>>)[p]!.averages as Record<string, Record<string, number | null>>)[group]!,
  }));
}

/** One row per path for one group: its reports and the total of each summed field (GET /stats/totals). */
export function totalsRows<D extends Domain>(d: D, stats: StatsOf<D>, group: GroupOf<D>): Record<string, string | number>[] {
  return d.paths.map((p) => ({
    path: p,
    ...((stats.paths as Record<string, PathStatsOf<D>>)[p]!.totals as Record<string, Record<string, number>>)[group]!,
  }));
}

/** Whether a string names a group of the domain (a municipality, for weather tweets). */
export function isGroup<D extends Domain>(d: D, g: string): g is GroupOf<D> {
  return groupsAndValues(d).groups.includes(g);
}
