import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readState, reconfigureStack, writerReplicas } from '@tweets/stack';
import { killedUnderLoadCountsOnce, sentCountedOnce, stack } from './helpers.js';

// Two writer processes per broker, as two writer pods behind a headless Service: the dispatcher's
// streams spread over both, and a replica that dies is routed around.
before(async () => reconfigureStack(stack, { writers: 2 }), { timeout: 600_000 });
after(async () => reconfigureStack(stack), { timeout: 600_000 });

/** What each writer process of a path has published so far, from its /metrics. */
async function published(path: 'kafka' | 'rabbitmq'): Promise<number[]> {
  return Promise.all(
    writerReplicas(stack, path, 2).map(async (w) => {
      const text = await (await fetch(`http://127.0.0.1:${w.metricsPort}/metrics`)).text();
      const m = /^writer_published_tweets_total\{[^}]*\} (\d+)/m.exec(text);
      return Number(m?.[1] ?? 0);
    }),
  );
}

test('with two writers per broker, the dispatcher spreads batches over both, and every tweet is counted once', async () => {
  assert.equal(readState(stack)!.writers, 2);
  const start = { kafka: await published('kafka'), rabbitmq: await published('rabbitmq') };
  const n = 3000;
  await sentCountedOnce('writers-2', n);
  for (const p of ['kafka', 'rabbitmq'] as const) {
    const share = (await published(p)).map((x, i) => x - start[p][i]!);
    assert.ok(
      share.every((x) => x > 0),
      `${p}: both writers published (${share.join(' + ')})`,
    );
    assert.ok(share[0]! + share[1]! >= n, `${p}: the writers published every tweet (${share.join(' + ')})`);
  }
});

test('a writer replica killed under load: the other takes its batches, nothing is lost or counted twice', { timeout: 600_000 }, () =>
  killedUnderLoadCountsOnce('writer-kafka-2', 'writers-kill'),
);
