import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadResult } from '@tweets/loadgen';
import { faultRows, type Struck } from '../src/chaos.js';

test("each fault's row counts the tweets first sent in its window, per path, and the errors clients saw in it", () => {
  const t0 = 1_000_000;
  const struck: Struck[] = [
    {
      f: { kind: 'kill', component: 'writer-kafka' },
      name: 'writer-kafka',
      at: t0 + 2000,
      sentBefore: 4,
      recovered: t0 + 3000,
      outage: 800,
      ok: true,
    },
    {
      f: { kind: 'freeze', component: 'valkey-primary' },
      name: 'valkey',
      at: t0 + 5000,
      sentBefore: 7,
      recovered: t0 + 15_000,
      outage: 100,
      ok: false,
    },
  ];
  const applied = { kafka: Uint8Array.from([1, 1, 1, 1, 1, 0, 1, 1, 1, 1]), rabbitmq: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0]) };
  const result = { sent: 10, errorTimesMs: [2500, 2600, 6000, 30_000] } as unknown as LoadResult;
  const rows = faultRows(struck, applied, result, t0, t0 + 20_000);
  assert.deepEqual(
    rows.map((r) => [r.fault, r.window, r.counted, r.lost, r.recoverSec, r.outageSec, r.recovered, r.clientErrors]),
    [
      ['SIGKILL writer-kafka', { from: 0, to: 7 }, { kafka: 6, rabbitmq: 7 }, { kafka: 1, rabbitmq: 0 }, 1, 0.8, true, 2],
      [
        'SIGSTOP 10 s valkey (valkey-primary)',
        { from: 7, to: 10 },
        { kafka: 3, rabbitmq: 2 },
        { kafka: 0, rabbitmq: 1 },
        10,
        0.1,
        false,
        1,
      ],
    ],
  );
});
