import { test } from 'node:test';
import assert from 'node:assert/strict';
import { down, isRunning } from '@tweets/stack/cluster';

// Last of the cluster tier: the node taken down leaves the machine as it found it (when npm test brought
// the node up; one that was running before stays up).

test(
  'npm run cluster -- down stops every process it started and leaves no bridge, table, chain, ipset, cgroup or mount behind',
  { skip: !process.env.CLUSTER_OWNED && 'the node was up before npm test: it stays up' },
  async () => {
    const { left } = await down();
    assert.equal(isRunning(), false, 'no supervisor');
    assert.deepEqual(left, {}, 'the machine as before the node: links, nftables and iptables, ipsets, cgroups, mounts, processes');
  },
);
