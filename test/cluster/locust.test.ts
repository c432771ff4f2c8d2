import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locustInCluster } from '@tweets/stack/cluster';
import { entry, kubectl } from './helpers.js';

// The seed's load as GKE runs it: components/locust's Job pulls the 10,000-tweet input file from the
// registry in the cluster as an OCI artifact and sends it with 10 users through the ingress.

test(
  "Locust's Job in the cluster: the 10,000 tweets of the OCI artifact counted exactly on both paths",
  { timeout: 2_400_000 },
  async () => {
    const run = await locustInCluster(kubectl, entry, { say: (m) => console.log(`# ${m}`) });
    console.log(run.report.replace(/^/gm, '# '));
    assert.ok(run.results, 'the Job completed and logged its results');
    assert.equal(run.results.accepted, 10_000);
    assert.equal(run.results.failed, 0);
    assert.ok(run.check?.exact, 'EXACT');
  },
);
