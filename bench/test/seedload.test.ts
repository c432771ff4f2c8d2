import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramTotals } from '../src/seedload.js';

const text = `# HELP http_server_request_duration_seconds Time
# TYPE http_server_request_duration_seconds histogram
http_server_request_duration_seconds_bucket{service="ingest-api",method="POST",route="/tweets",status_code="202",le="0.001"} 3
http_server_request_duration_seconds_sum{service="ingest-api",method="POST",route="/tweets",status_code="202"} 1.5
http_server_request_duration_seconds_count{service="ingest-api",method="POST",route="/tweets",status_code="202"} 10
http_server_request_duration_seconds_sum{service="ingest-api",method="POST",route="/tweets",status_code="503"} 0.25
http_server_request_duration_seconds_count{service="ingest-api",method="POST",route="/tweets",status_code="503"} 2
http_server_request_duration_seconds_sum{service="ingest-api",method="GET",route="/stats",status_code="200"} 9
http_server_request_duration_seconds_count{service="ingest-api",method="GET",route="/stats",status_code="200"} 9
api_forward_duration_seconds_sum 2e-3
api_forward_duration_seconds_count 4
`;

test('a histogram is summed over the series whose labels match, whatever their other labels', () => {
  assert.deepEqual(histogramTotals(text, 'http_server_request_duration_seconds', { route: '/tweets', method: 'POST' }), {
    sum: 1.75,
    count: 12,
  });
  assert.deepEqual(histogramTotals(text, 'http_server_request_duration_seconds', { route: '/stats' }), { sum: 9, count: 9 });
  assert.deepEqual(histogramTotals(text, 'api_forward_duration_seconds', {}), { sum: 0.002, count: 4 });
  assert.deepEqual(histogramTotals(text, 'http_server_request_duration_seconds', { route: '/nope' }), { sum: 0, count: 0 });
  // a name that only starts like another's is not it
  assert.deepEqual(histogramTotals(text, 'http_server_request_duration', {}), { sum: 0, count: 0 });
});
