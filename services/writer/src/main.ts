import { randomUUID } from 'node:crypto';
import { runService } from '@tweets/kit';
import { formatErrors } from '@tweets/tweet';
import {
  fromRequest,
  grpc,
  HealthImplementation,
  SERVICE_NAME,
  WeatherTweetService,
  type WeatherTweetBatch,
  type WeatherTweetBatchResponse,
  type WeatherTweetRequest,
  type WeatherTweetResponse,
} from '@tweets/wire';
import type { Tweet } from '@tweets/tweet';

import { readConfig, secrets } from './config.js';
import { createKafkaPublisher, createRabbitPublisher } from './publisher.js';

await runService({
  name: `writer-${process.env.BROKER ?? 'unknown'}`,
  secrets,
  async start(log) {
    const cfg = readConfig();
    const publisher = cfg.BROKER === 'kafka' ? await createKafkaPublisher(cfg, log) : await createRabbitPublisher(cfg, log);
    const health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
    const server = new grpc.Server({ 'grpc.keepalive_permit_without_calls': 1 });
    health.addToServer(server);
    server.addService(WeatherTweetService.service, {
      SendTweet(
        call: grpc.ServerUnaryCall<WeatherTweetRequest, WeatherTweetResponse>,
        cb: grpc.sendUnaryData<WeatherTweetResponse>,
      ) {
        const v = fromRequest(call.request, randomUUID);
        if (!v.ok) {
          cb({ code: grpc.status.INVALID_ARGUMENT, details: formatErrors(v.errors) });
          return;
        }
        publisher.publish(v.value).then(
          () => cb(null, { status: 'ok', id: v.value.id }),
          (err: Error) => {
            log.warn({ err: { message: err.message }, id: v.value.id }, 'publish failed');
            cb({ code: grpc.status.UNAVAILABLE, details: `${cfg.BROKER} publish failed: ${err.message}` });
          },
        );
      },
      SendTweets(
        call: grpc.ServerUnaryCall<WeatherTweetBatch, WeatherTweetBatchResponse>,
        cb: grpc.sendUnaryData<WeatherTweetBatchResponse>,
      ) {
        const tweets: Tweet[] = [];
        for (const [i, req] of call.request.tweets.entries()) {
          const v = fromRequest(req, () => '');
          if (!v.ok) {
            cb({ code: grpc.status.INVALID_ARGUMENT, details: `tweets[${i}]: ${formatErrors(v.errors)}` });
            return;
          }
          tweets.push(v.value);
        }
        Promise.all(tweets.map((t) => publisher.publish(t))).then(
          () => cb(null, { status: 'ok', count: tweets.length }),
          (err: Error) => {
            log.warn({ err: { message: err.message }, count: tweets.length }, 'batch publish failed');
            cb({ code: grpc.status.UNAVAILABLE, details: `${cfg.BROKER} publish failed: ${err.message}` });
          },
        );
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${cfg.GRPC_HOST}:${cfg.GRPC_PORT}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    health.setStatus('', 'SERVING');
    health.setStatus(SERVICE_NAME, 'SERVING');
    log.info({ port, broker: cfg.BROKER }, 'gRPC server listening');
    return {
      async stop() {
        health.setStatus('', 'NOT_SERVING');
        health.setStatus(SERVICE_NAME, 'NOT_SERVING');
        await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
        await publisher.close();
      },
    };
  },
});
