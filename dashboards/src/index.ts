import { weather } from '@tweets/domain';
import { healthDashboard } from './health.js';
import { weatherDashboard } from './weather.js';

export { API_DATASOURCE, weatherDashboard } from './weather.js';
export { healthDashboard, PROMETHEUS_DATASOURCE } from './health.js';
export type { InfinityColumn, InfinityTarget } from './infinity.js';

/** Every dashboard, by the file it is written to under deploy/grafana/dashboards. */
export function dashboards(): Record<string, unknown> {
  return {
    'weather-reports.json': weatherDashboard(weather),
    'pipeline-health.json': healthDashboard(),
  };
}

/** A dashboard as its committed file holds it: JSON, two-space indent, a final newline. */
export const render = (d: unknown) => `${JSON.stringify(d, null, 2)}\n`;
