import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type { Domain } from '@tweets/domain';

export const PROMETHEUS_DATASOURCE = { type: 'prometheus', uid: 'prometheus' } as const;

const q = (expr: string, legend: string, refId = 'A') =>
  new prometheus.DataqueryBuilder().datasource(PROMETHEUS_DATASOURCE).expr(expr).legendFormat(legend).range().refId(refId);

const panel = (title: string, description: string, unit: string, queries: prometheus.DataqueryBuilder[]) => {
  let p = new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(PROMETHEUS_DATASOURCE)
    .unit(unit)
    .min(0)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .height(9)
    .span(12);
  for (const x of queries) p = p.withTarget(x);
  return p;
};

/** p50 and p99 of a histogram, per label. */
const quantiles = (metric: string, by: string, filter = '') =>
  [0.5, 0.99].map((p, i) =>
    q(
      `histogram_quantile(${p}, sum by (le, ${by}) (rate(${metric}_bucket${filter}[$__rate_interval])))`,
      `{{${by}}} p${p * 100}`,
      String.fromCharCode(65 + i),
    ),
  );

/**
 * "Pipeline health": every hop's rate, latency and errors, from the services'
 * Prometheus metrics (docs/metrics.md).
 */
export function healthDashboard(d: Domain): dashboard.Dashboard {
  // Metric names carry the domain's item (tweets_received_total, sales_received_total); so do the titles.
  const items = `${d.item}s`;
  const Items = `${d.item[0]!.toUpperCase()}${d.item.slice(1)}s`;
  return new dashboard.DashboardBuilder(d.name === 'weather' ? 'Pipeline health' : `Pipeline health (${d.dashboard.title})`)
    .uid(d.name === 'weather' ? 'pipeline-health' : `${d.name}-pipeline-health`)
    .description(
      'Rates, latencies per hop, broker acks, consumer lag and apply rate, dead letters, memory and CPU per service. Data: Prometheus.',
    )
    .tags([d.name, 'operations'])
    .time({ from: 'now-15m', to: 'now' })
    .refresh('10s')
    .timezone('browser')
    .withPanel(
      panel(
        `${Items} per second at the API, by outcome`,
        'accepted: 202, durably in every routed broker; rejected: 4xx, bad input; unavailable: 503, to be retried with the same key.',
        'reqps',
        [q(`sum by (outcome) (rate(${items}_received_total[$__rate_interval]))`, '{{outcome}}')],
      ),
    )
    .withPanel(
      panel(
        `API latency (POST ${d.resource})`,
        'From the request received to the answer sent, p50 and p99.',
        's',
        quantiles('http_server_request_duration_seconds', 'route', `{service="ingest-api",route="${d.resource}",method="POST"}`),
      ),
    )
    .withPanel(
      panel(
        'API to dispatcher, per batch',
        `A batch of ${items} to the dispatcher and back: every routed broker acked (or not).`,
        's',
        quantiles('api_forward_duration_seconds', 'service'),
      ),
    )
    .withPanel(
      panel(
        'Dispatcher to writers, per path',
        "A batch to each path's writers until they report it durably in the broker.",
        's',
        quantiles('dispatcher_writer_duration_seconds', 'path'),
      ),
    )
    .withPanel(
      panel(
        'Broker acks: time to a durable ack',
        `From the ${items} handed to the broker client to the broker's ack (Kafka acks=all, RabbitMQ publisher confirms).`,
        's',
        quantiles('writer_publish_duration_seconds', 'broker'),
      ),
    )
    .withPanel(
      panel('Broker acks per second', `${Items} each broker acknowledged durably, and publishes it did not acknowledge.`, 'short', [
        q(`sum by (broker) (rate(writer_published_${items}_total[$__rate_interval]))`, '{{broker}} acked'),
        q('sum by (broker) (rate(writer_publish_failures_total[$__rate_interval]))', '{{broker}} failed', 'B'),
      ]),
    )
    .withPanel(
      panel(
        `Consumer lag: ${items} acked by a broker, not yet taken by its consumer`,
        `Published (writer_published_${items}_total) minus taken (consumer_${items}_total, every outcome), per path. Zero when the consumers have caught up; a retried publish counts twice on the left until its duplicate is taken.`,
        'short',
        [
          q(
            `sum by (path) (label_replace(writer_published_${items}_total, "path", "$1", "broker", "(.*)")) - sum by (path) (consumer_${items}_total)`,
            '{{path}}',
          ),
        ],
      ),
    )
    .withPanel(
      panel(
        `Consumers: ${items} applied per second`,
        'applied: counted; duplicate: already counted (a redelivery); dead_lettered: malformed, sent to the DLQ.',
        'short',
        [q(`sum by (path, outcome) (rate(consumer_${items}_total[$__rate_interval]))`, '{{path}} {{outcome}}')],
      ),
    )
    .withPanel(
      panel(
        'Valkey apply time, per batch',
        'One batch applied to Valkey (dedup and counts in one script), retries included.',
        's',
        quantiles('consumer_apply_duration_seconds', 'path'),
      ),
    )
    .withPanel(
      panel(`Dead-lettered ${items}`, `Malformed ${items} each consumer sent to its dead-letter queue or topic, in all.`, 'short', [
        q(`sum by (path) (consumer_${items}_total{outcome="dead_lettered"})`, '{{path}}'),
      ]),
    )
    .withPanel(
      panel('Resident memory per service', 'process_resident_memory_bytes', 'bytes', [
        q('sum by (service) (process_resident_memory_bytes)', '{{service}}'),
      ]),
    )
    .withPanel(
      panel('CPU per service', 'CPU seconds per second (1 = one core)', 'short', [
        q('sum by (service) (rate(process_cpu_seconds_total[$__rate_interval]))', '{{service}}'),
      ]),
    )
    .build();
}
