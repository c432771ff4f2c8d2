import { blackfriday, weather } from '@tweets/domain';
import { healthDashboard } from './health.js';
import { reportsDashboard } from './reports.js';

export { API_DATASOURCE, reportsDashboard } from './reports.js';
export { healthDashboard, PROMETHEUS_DATASOURCE } from './health.js';
export type { InfinityColumn, InfinityTarget } from './infinity.js';

/**
 * Every dashboard, by the file it is written to under deploy/grafana: the weather
 * ones in dashboards/ (the base deploys them), the Black Friday ones in
 * blackfriday/dashboards/ (its overlay deploys them instead).
 */
export function dashboards(): Record<string, unknown> {
  return {
    'dashboards/weather-reports.json': reportsDashboard(weather),
    'dashboards/pipeline-health.json': healthDashboard(weather),
    'blackfriday/dashboards/blackfriday-sales.json': reportsDashboard(blackfriday),
    'blackfriday/dashboards/blackfriday-pipeline-health.json': healthDashboard(blackfriday),
  };
}

/** A dashboard as its committed file holds it: JSON, two-space indent, a final newline. */
export const render = (d: unknown) => `${JSON.stringify(d, null, 2)}\n`;
