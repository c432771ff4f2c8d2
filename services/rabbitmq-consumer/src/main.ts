import { createRabbitConnection, DEFAULT_QUEUE, deadLetterQueue, POISON_REASON_HEADER, queueOptions } from '@tweets/brokers';
import { Batcher, closeServer, int, loadConfig, runService, secretNames, startHealthServer, str } from '@tweets/kit';
import { applyUntilDone, connectFromConfig, TweetStore, valkeySpec } from '@tweets/store';
import { decodeTweet, formatErrors, type Tweet } from '@tweets/tweet';
import { ConsumerStatus, type AsyncMessage } from 'rabbitmq-client';

const spec = {
  HEALTH_HOST: str({ default: '127.0.0.1' }),
  HEALTH_PORT: int({ default: 8092, min: 1, max: 65535 }),
  /** amqp://user:password@host:port, or RABBITMQ_URL_FILE naming a file that holds it. */
  RABBITMQ_URL: str({ secret: true, pattern: /^amqps?:\/\/.+/ }),
  RABBITMQ_QUEUE: str({ default: DEFAULT_QUEUE }),
  /** Unacked messages in flight; they are applied to Valkey together. */
  PREFETCH: int({ default: 500, min: 1, max: 65_535 }),
  BATCH_MAX: int({ default: 500, min: 1, max: 10_000 }),
  ...valkeySpec('default'),
};

await runService({
  name: 'rabbitmq-consumer',
  secrets: secretNames(spec),
  async start(log) {
    const cfg = loadConfig(spec);
    const valkey = connectFromConfig(cfg, 'rabbitmq-consumer', log);
    const store = new TweetStore(valkey, { prefix: cfg.VALKEY_PREFIX });
    let stopping = false;
    let applied = 0;
    let duplicates = 0;
    const batcher = new Batcher<Tweet, number>(
      (tweets) =>
        applyUntilDone(store, 'rabbitmq', tweets, () => stopping, (err, attempt) =>
          log.warn({ err: { message: err.message }, attempt }, 'valkey write failed; retrying'),
        ),
      { maxSize: cfg.BATCH_MAX },
    );

    const rabbit = createRabbitConnection(cfg.RABBITMQ_URL, 'rabbitmq-consumer');
    rabbit.on('error', (err) => log.warn({ err: { message: err.message } }, 'rabbitmq connection error'));
    rabbit.on('connection', () => log.info('rabbitmq connected'));
    const dlqName = deadLetterQueue(cfg.RABBITMQ_QUEUE);
    await rabbit.queueDeclare({ queue: dlqName, durable: true });
    const dlq = rabbit.createPublisher({ confirm: true, maxAttempts: 3 });
    let deadLettered = 0;

    // The handler's promise decides the ack: resolved after the Valkey write
    // (ack), rejected (nack and requeue), or DROP for a poison message.
    const sub = rabbit.createConsumer(
      {
        queue: cfg.RABBITMQ_QUEUE,
        queueOptions: queueOptions(cfg.RABBITMQ_QUEUE),
        qos: { prefetchCount: cfg.PREFETCH },
        concurrency: cfg.PREFETCH,
        requeue: true,
      },
      async (msg: AsyncMessage) => {
        const d = decodeTweet(asBytes(msg.body));
        if (!d.ok) {
          // Into the DLQ with the reason, confirmed, before the original is acked;
          // if that fails the handler throws and the message is requeued.
          const reason = formatErrors(d.errors);
          await dlq.send(
            { routingKey: dlqName, durable: true, messageId: msg.messageId, headers: { [POISON_REASON_HEADER]: reason } },
            asBytes(msg.body),
          );
          deadLettered++;
          log.error({ messageId: msg.messageId, reason }, 'poison message dead-lettered');
          return ConsumerStatus.ACK;
        }
        const r = await batcher.add(d.value);
        r === 1 ? applied++ : duplicates++;
        return ConsumerStatus.ACK;
      },
    );
    sub.on('error', (err) => log.warn({ err: { message: err.message } }, 'rabbitmq consumer error'));

    const statsTimer = setInterval(() => log.info({ applied, duplicates, deadLettered }, 'progress'), 10_000);
    statsTimer.unref();
    const health = await startHealthServer(cfg.HEALTH_HOST, cfg.HEALTH_PORT, () => !stopping && valkey.status === 'ready' && rabbit.ready);
    return {
      async stop() {
        stopping = true;
        clearInterval(statsTimer);
        await sub.close();
        await batcher.drain();
        await dlq.close();
        await rabbit.close();
        valkey.disconnect();
        await closeServer(health);
        log.info({ applied, duplicates, deadLettered }, 'final counts');
      },
    };
  },
});

/** The client hands over bytes for our content type; anything else a producer sent is checked the same way. */
function asBytes(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body) ?? '');
}
