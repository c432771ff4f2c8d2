import { randomUUID } from 'node:crypto';
import { LatencyWindow, runService } from '@tweets/kit';
import type { Tweet } from '@tweets/tweet';
import {
  grpc,
  HealthImplementation,
  SERVICE_NAME,
  writerServiceDefinition,
  type Decoded,
  type WeatherTweetBatchResponse,
  type WeatherTweetResponse,
} from '@tweets/wire';

import { readConfig, secrets } from './config.js';
import { createKafkaPublisher, createRabbitPublisher } from './publisher.js';

/** One SendTweetStream the writer serves: batches in flight, whether its caller ended it, whether it is over. */
interface StreamState {
  call: grpc.ServerDuplexStream<Decoded<Tweet[]>, WeatherTweetBatchResponse>;
  inFlight: number;
  ended: boolean;
  done: boolean;
}

await runService({
  name: `writer-${process.env.BROKER ?? 'unknown'}`,
  secrets,
  async start(log) {
    const cfg = readConfig();
    const publisher = cfg.BROKER === 'kafka' ? await createKafkaPublisher(cfg, log) : await createRabbitPublisher(cfg, log);
    const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
    const server = new grpc.Server({ 'grpc.keepalive_permit_without_calls': 1 });
    health.addToServer(server);
    let stopping = false;
    let inFlight = 0;
    const streams = new Set<StreamState>();
    /** Publishes in the last 10 s: tweets, and per call the time to the broker's durable ack. */
    const published = { tweets: 0, latency: new LatencyWindow() };

    /** Publishes; a broker failure is UNAVAILABLE (the caller may retry the same ids). Never rejects. */
    function publish(tweets: Tweet[]): Promise<{ code: grpc.status; details: string }> {
      const t0 = performance.now();
      return publisher.publish(tweets).then(
        () => {
          published.tweets += tweets.length;
          published.latency.record(performance.now() - t0);
          return { code: grpc.status.OK, details: '' };
        },
        (err: Error) => {
          log.warn({ err: { message: err.message }, count: tweets.length, first: tweets[0]?.id }, 'publish failed');
          return { code: grpc.status.UNAVAILABLE, details: `${cfg.BROKER} publish failed: ${err.message}` };
        },
      );
    }

    /** Publishes and answers a unary call. */
    function publishAndAnswer<T>(tweets: Tweet[], cb: grpc.sendUnaryData<T>, ok: () => T): void {
      void publish(tweets).then((r) => (r.code === grpc.status.OK ? cb(null, ok()) : cb(r)));
    }

    server.addService(writerServiceDefinition(randomUUID), {
      // The seed's rpc: one tweet. Its request is decoded and checked by the codec.
      SendTweet(call: grpc.ServerUnaryCall<Decoded<Tweet>, WeatherTweetResponse>, cb: grpc.sendUnaryData<WeatherTweetResponse>) {
        const d = call.request;
        if (!d.ok) return cb({ code: grpc.status.INVALID_ARGUMENT, details: d.message });
        publishAndAnswer([d.value], cb, () => ({ status: 'ok', id: d.value.id }));
      },
      // The batch rpc: all of the batch is published, or the call fails.
      SendTweets(call: grpc.ServerUnaryCall<Decoded<Tweet[]>, WeatherTweetBatchResponse>, cb: grpc.sendUnaryData<WeatherTweetBatchResponse>) {
        const d = call.request;
        if (!d.ok) return cb({ code: grpc.status.INVALID_ARGUMENT, details: d.message });
        publishAndAnswer(d.value, cb, () => ({ status: 'ok', count: d.value.length, seq: 0, code: 0, details: '' }));
      },
      // The batch rpc over one long-lived stream: each batch is answered when published, by its seq.
      SendTweetStream(call: grpc.ServerDuplexStream<Decoded<Tweet[]>, WeatherTweetBatchResponse>) {
        const s: StreamState = { call, inFlight: 0, ended: false, done: false };
        streams.add(s);
        const answer = (r: Omit<WeatherTweetBatchResponse, 'status'>) => {
          if (!s.done) call.write({ status: r.code === grpc.status.OK ? 'ok' : 'failed', ...r });
        };
        call.on('data', (d: Decoded<Tweet[]>) => {
          const seq = d.seq ?? 0;
          if (!d.ok) return answer({ seq, count: 0, code: grpc.status.INVALID_ARGUMENT, details: d.message });
          if (stopping) return answer({ seq, count: 0, code: grpc.status.UNAVAILABLE, details: 'the writer is stopping' });
          s.inFlight++;
          inFlight++;
          void publish(d.value).then((r) => {
            try {
              answer({ seq, count: r.code === grpc.status.OK ? d.value.length : 0, ...r });
            } finally {
              s.inFlight--;
              inFlight--;
              settle(s);
            }
          });
        });
        call.on('end', () => {
          s.ended = true;
          settle(s);
        });
        call.on('error', () => {
          s.done = true;
          streams.delete(s);
        });
        call.on('cancelled', () => {
          s.done = true;
          streams.delete(s);
        });
      },
    });

    /** A stream whose caller ended it, or whose writer is stopping, ends once its batches are answered. */
    function settle(s: StreamState): void {
      if (s.done || s.inFlight > 0 || !(s.ended || stopping)) return;
      s.done = true;
      streams.delete(s);
      s.call.end();
    }
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${cfg.GRPC_HOST}:${cfg.GRPC_PORT}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    // grpc.health.v1 follows the broker connection: NOT_SERVING while it is down.
    let serving: 'SERVING' | 'NOT_SERVING' | undefined;
    const follow = () => {
      const now = publisher.ready() ? 'SERVING' : 'NOT_SERVING';
      if (now === serving) return;
      serving = now;
      health.setStatus('', now);
      health.setStatus(SERVICE_NAME, now);
    };
    follow();
    const healthTimer = setInterval(follow, 500);
    healthTimer.unref();
    const statsTimer = setInterval(() => {
      const ack = published.latency.take();
      if (ack) log.info({ calls: ack.count, tweets: published.tweets, ack }, 'published in the last 10 s');
      published.tweets = 0;
    }, 10_000);
    statsTimer.unref();
    log.info({ port, broker: cfg.BROKER }, 'gRPC server listening');
    return {
      async stop() {
        clearInterval(healthTimer);
        clearInterval(statsTimer);
        health.setStatus('', 'NOT_SERVING');
        health.setStatus(SERVICE_NAME, 'NOT_SERVING');
        // Streams take no new batch, answer those in flight, then end: callers open a new stream elsewhere.
        stopping = true;
        for (const s of [...streams]) settle(s);
        while (inFlight > 0) await new Promise((r) => setTimeout(r, 20));
        for (const s of [...streams]) settle(s);
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        await publisher.close();
      },
    };
  },
});
