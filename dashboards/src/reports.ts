import * as barchart from '@grafana/grafana-foundation-sdk/barchart';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import type { Domain, EnumField } from '@tweets/domain';
import { InfinityQueryBuilder } from './infinity.js';

/** The data source of the counts: Infinity, its base URL the API (GET /stats/*, /recent; numbers straight from Valkey). */
export const API_DATASOURCE = { type: 'yesoreyeram-infinity-datasource', uid: 'tweets-api' } as const;

const cap = (s: string) => s[0]!.toUpperCase() + s.slice(1);
const PATH_NAMES: Record<string, string> = { kafka: 'Kafka', rabbitmq: 'RabbitMQ' };

/**
 * A domain's reports dashboard, the seed's bar chart with its group chosen by a
 * variable. Weather: reports per weather condition for the chosen
 * municipality, one bar per path side by side, the totals, the average
 * temperature and humidity, and the newest tweets. Black Friday (one
 * dimension): reports per category, with the chosen category's reports, units
 * sold and revenue, and the newest sales. Every query reads the API's
 * read-only JSON, whose numbers come from Valkey.
 */
export function reportsDashboard(d: Domain): dashboard.Dashboard {
  const oneDimension = d.countBy === d.groupBy;
  const group = d.groupBy;
  const groups = (d.fields[group] as EnumField).values;
  const counted = d.countBy;
  const digits = d.groupByIdDigit;
  const rule = digits
    ? `The seed assigns it by the last digit of the student id: ${groups
        .map((g) => `${digits.flatMap((x, i) => (x === g ? [i] : [])).join(', ')}: ${g}`)
        .join('; ')}.`
    : '';
  const variable = new dashboard.CustomVariableBuilder(group)
    .label(cap(group))
    .description(`The ${group} whose reports the chart shows. ${rule}`)
    .values(groups.join(','))
    .current({ text: groups[0]!, value: groups[0]! });

  const bars = new barchart.PanelBuilder()
    .title(oneDimension ? `Reports per ${group}` : `Reports per ${counted} condition in $${group}`)
    .description(
      oneDimension
        ? `Total reports per ${group} (the number of times each was registered), counted once per path in Valkey (GET /stats/breakdown).`
        : `Total reports per ${counted} condition for the chosen ${group}, counted once per path in Valkey (GET /stats/breakdown).`,
    )
    .datasource(API_DATASOURCE)
    .withTarget(
      d.paths.reduce(
        (q, p) => q.column(p, PATH_NAMES[p] ?? cap(p), 'number'),
        new InfinityQueryBuilder(API_DATASOURCE.uid, 'A').url(`/stats/breakdown?group=$${group}`).column(counted, cap(counted), 'string'),
      ),
    )
    .xField(counted)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .orientation(common.VizOrientation.Vertical)
    .showValue(common.VisibilityMode.Always)
    .stacking(common.StackingMode.None)
    .groupWidth(0.7)
    .barWidth(0.9)
    .unit('short')
    .decimals(0)
    .min(0)
    .noValue('0')
    .height(12)
    .span(24);

  const totals = new stat.PanelBuilder()
    .title(`Reports in $${group}, per path`)
    .datasource(API_DATASOURCE)
    .withTarget(
      new InfinityQueryBuilder(API_DATASOURCE.uid, 'A')
        .url(`/stats/summary?group=$${group}`)
        .column('path', 'Path', 'string')
        .column('reports', 'Reports', 'number'),
    )
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('/^Reports$/').values(true))
    .textMode(common.BigValueTextMode.ValueAndName)
    .graphMode(common.BigValueGraphMode.None)
    .unit('short')
    .decimals(0)
    .height(6)
    .span(8);

  const shown = d.dashboard.sums;
  const averages = d.sums.map((f) =>
    new stat.PanelBuilder()
      .title(`${shown === 'totals' ? 'Total' : 'Average'} ${f} in $${group}`)
      .datasource(API_DATASOURCE)
      .withTarget(
        new InfinityQueryBuilder(API_DATASOURCE.uid, 'A')
          .url(`/stats/${shown === 'totals' ? 'totals' : 'summary'}?group=$${group}`)
          .column('path', 'Path', 'string')
          .column(f, cap(f), 'number'),
      )
      .reduceOptions(
        new common.ReduceDataOptionsBuilder()
          .calcs(['lastNotNull'])
          .fields(`/^${cap(f)}$/`)
          .values(true),
      )
      .textMode(common.BigValueTextMode.ValueAndName)
      .graphMode(common.BigValueGraphMode.None)
      .decimals(shown === 'totals' ? 2 : 1)
      .unit(f === 'temperature' ? 'celsius' : f === 'humidity' ? 'humidity' : 'short')
      .height(6)
      .span(8),
  );

  const recent = new table.PanelBuilder()
    .title(`Newest ${d.item}s counted (${d.paths[0]} path)`)
    .description(`The newest ${d.item}s the ${d.paths[0]} path applied to Valkey (GET /recent), newest first.`)
    .datasource(API_DATASOURCE)
    .withTarget(
      Object.keys(d.fields).reduce(
        (q, f) => q.column(f, cap(f), ['enum', 'string'].includes((d.fields[f] as { kind: string }).kind) ? 'string' : 'number'),
        new InfinityQueryBuilder(API_DATASOURCE.uid, 'A')
          .url(`/recent?path=${d.paths[0]}&limit=20`)
          .rootSelector('items')
          .column('at', 'Counted at', 'timestamp_epoch')
          .column('id', 'Id', 'string'),
      ),
    )
    .height(10)
    .span(24);

  let b = new dashboard.DashboardBuilder(d.dashboard.title)
    .uid(d.dashboard.uid)
    .description(
      oneDimension
        ? `The seed's chart: reports per ${group}, on each broker path. Data: the API's JSON, read from Valkey.`
        : `The seed's chart: reports per ${counted} condition, per ${group}, on each broker path. Data: the API's JSON, read from Valkey.`,
    )
    .tags([d.name, 'seed'])
    .time({ from: 'now-1h', to: 'now' })
    .refresh('5s')
    .timezone('browser')
    .withVariable(variable)
    .withPanel(bars)
    .withPanel(totals);
  for (const a of averages) b = b.withPanel(a);
  return b.withPanel(recent).build();
}
