import {
  connectRabbit,
  DEFAULT_QUEUE,
  deadLetterQueue,
  POISON_REASON_HEADER,
  queueOptions,
  TWEET_BATCH_CONTENT_TYPE,
  TWEET_CONTENT_TYPE,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
} from '@tweets/brokers';
import { closeServer, int, loadConfig, runService, secretNames, startHealthServer, str } from '@tweets/kit';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyUntilDone, connectFromConfig, TweetStore, valkeySpec, type Applied } from '@tweets/store';
import { decodeTweet, decodeTweetBatch, formatErrors } from '@tweets/tweet';

const spec = {
  HEALTH_HOST: str({ default: '127.0.0.1' }),
  HEALTH_PORT: int({ default: 8092, min: 1, max: 65535 }),
  /** amqp://user:password@host:port, or RABBITMQ_URL_FILE naming a file that holds it. */
  RABBITMQ_URL: str({ secret: true, pattern: /^amqps?:\/\/.+/ }),
  RABBITMQ_QUEUE: str({ default: DEFAULT_QUEUE }),
  /** Unacked messages the broker may hand over at once; batches are taken from them. */
  PREFETCH: int({ default: 1000, min: 1, max: 65_535 }),
  /** Most messages taken in one batch and acked with one multiple-ack, and most tweets applied to Valkey in one round trip. */
  BATCH_MAX: int({ default: 500, min: 1, max: 10_000 }),
  /**
   * How long a batch short of BATCH_MAX waits for more deliveries. Counting is
   * asynchronous to the API's answers, so a few milliseconds here cost no
   * client latency and make batches, Valkey writes and acks fewer and larger.
   */
  BATCH_LINGER_MS: int({ default: 10, min: 0, max: 1000 }),
  ...valkeySpec('default'),
};

/** What one connection made: its channels and the deliveries not yet applied. */
interface Link {
  model: ChannelModel;
  ch: Channel;
  dlq: ConfirmChannel;
  open: boolean;
  consumerTag: string;
  pending: ConsumeMessage[];
}

await runService({
  name: 'rabbitmq-consumer',
  secrets: secretNames(spec),
  async start(log) {
    const cfg = loadConfig(spec);
    const valkey = connectFromConfig(cfg, 'rabbitmq-consumer', log);
    const store = new TweetStore(valkey, { prefix: cfg.VALKEY_PREFIX });
    const dlqName = deadLetterQueue(cfg.RABBITMQ_QUEUE);
    let stopping = false;
    let applied = 0;
    let duplicates = 0;
    let deadLettered = 0;
    let link: Link | undefined;
    let pumping: Promise<void> | undefined;
    let scheduled = false;

    /**
     * Applies one batch, then acks it with one multiple-ack on its channel.
     * Batches of a channel run one at a time and in delivery order, so the
     * multiple-ack covers exactly this batch and earlier, already acked, ones.
     * Poison goes to the DLQ, confirmed, before it is acked. If the channel
     * closed meanwhile, nothing is acked: the broker redelivers, and the
     * per-id dedup in Valkey makes that harmless.
     */
    async function handle(l: Link, batch: ConsumeMessage[]): Promise<void> {
      const tweets: Applied[] = [];
      for (const msg of batch) {
        const json = msg.content.toString('utf8');
        const type = msg.properties.contentType as string | undefined;
        const messageId = msg.properties.messageId as string | undefined;
        // A batch message (the writers' default) or, from another publisher, an array without a content type.
        if (type === TWEET_BATCH_CONTENT_TYPE || (type !== TWEET_CONTENT_TYPE && json.trimStart().startsWith('['))) {
          const d = decodeTweetBatch(json);
          if (!d.ok) {
            await deadLetter(l, msg.content, messageId, formatErrors(d.errors));
            continue;
          }
          for (const t of d.value.tweets) tweets.push(t);
          // An invalid tweet is poison on its own; the rest of its batch is applied.
          for (const bad of d.value.invalid) {
            await deadLetter(l, Buffer.from(bad.json), `${messageId ?? ''}#${bad.index}`, `tweet ${bad.index} of a batch: ${formatErrors(bad.errors)}`);
          }
          continue;
        }
        const d = decodeTweet(json);
        if (d.ok) tweets.push({ ...d.value, json });
        else await deadLetter(l, msg.content, messageId, formatErrors(d.errors));
      }
      for (let i = 0; i < tweets.length; i += cfg.BATCH_MAX) {
        const results = await applyUntilDone(store, 'rabbitmq', tweets.slice(i, i + cfg.BATCH_MAX), () => stopping, (err, attempt) =>
          log.warn({ err: { message: err.message }, attempt }, 'valkey write failed; retrying'),
        );
        for (const r of results) r === 1 ? applied++ : duplicates++;
      }
      if (l.open) l.ch.ack(batch[batch.length - 1]!, true);
    }

    /** Puts poison in the DLQ with its reason, confirmed, before the message that held it is acked. */
    async function deadLetter(l: Link, content: Buffer, messageId: string | undefined, reason: string): Promise<void> {
      await new Promise<void>((resolve, reject) =>
        l.dlq.publish('', dlqName, content, { persistent: true, messageId, headers: { [POISON_REASON_HEADER]: reason } }, (err: unknown) =>
          err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(),
        ),
      );
      deadLettered++;
      log.error({ messageId, reason }, 'poison message dead-lettered');
    }

    function pump(): void {
      scheduled = false;
      if (pumping) return;
      pumping = (async () => {
        while (link && link.open && link.pending.length > 0) {
          const l = link;
          if (l.pending.length < cfg.BATCH_MAX && cfg.BATCH_LINGER_MS > 0 && !stopping) await sleep(cfg.BATCH_LINGER_MS);
          if (!l.open) break;
          const batch = l.pending.splice(0, cfg.BATCH_MAX);
          try {
            await handle(l, batch);
          } catch (err) {
            // Unacked deliveries come back on the next connection.
            log.warn({ err: { message: (err as Error).message }, count: batch.length }, 'batch not applied; reconnecting for redelivery');
            l.open = false;
            l.pending.length = 0;
            await l.model.close().catch(() => {});
          }
        }
      })().finally(() => {
        pumping = undefined;
        if (link?.open && link.pending.length > 0) schedule();
      });
    }

    // Deliveries that arrive in one socket read are taken together.
    function schedule(): void {
      if (scheduled) return;
      scheduled = true;
      setImmediate(pump);
    }

    const conn = await connectRabbit({
      url: cfg.RABBITMQ_URL,
      name: 'rabbitmq-consumer',
      async setup(model) {
        const ch = await model.createChannel();
        const dlq = await model.createConfirmChannel();
        await ch.prefetch(cfg.PREFETCH);
        await ch.assertQueue(dlqName, { durable: true });
        await ch.assertQueue(cfg.RABBITMQ_QUEUE, queueOptions(cfg.RABBITMQ_QUEUE));
        const l: Link = { model, ch, dlq, open: true, consumerTag: '', pending: [] };
        const lost = () => {
          if (!l.open) return;
          l.open = false;
          l.pending.length = 0;
          if (!stopping) void model.close().catch(() => {});
        };
        for (const c of [ch, dlq]) {
          c.on('close', lost);
          c.on('error', (err: Error) => log.warn({ err: { message: err.message } }, 'rabbitmq channel error'));
        }
        link = l;
        const { consumerTag } = await ch.consume(
          cfg.RABBITMQ_QUEUE,
          (msg) => {
            if (msg === null) return lost(); // the broker cancelled the consumer (queue deleted)
            l.pending.push(msg);
            schedule();
          },
          { noAck: false },
        );
        l.consumerTag = consumerTag;
      },
      onEvent: (event, detail) => (event === 'connected' ? log.info('rabbitmq connected') : log.warn({ detail }, `rabbitmq ${event}`)),
    });

    const statsTimer = setInterval(() => log.info({ applied, duplicates, deadLettered }, 'progress'), 10_000);
    statsTimer.unref();
    const health = await startHealthServer(cfg.HEALTH_HOST, cfg.HEALTH_PORT, () => !stopping && valkey.status === 'ready' && link?.open === true);
    return {
      async stop() {
        // No new deliveries; apply and ack what was delivered, then close.
        const l = link;
        if (l?.open && l.consumerTag) await l.ch.cancel(l.consumerTag).catch(() => {});
        while (pumping || (l?.open && l.pending.length > 0)) {
          pump();
          await pumping;
        }
        stopping = true;
        clearInterval(statsTimer);
        await conn.close();
        valkey.disconnect();
        await closeServer(health);
        log.info({ applied, duplicates, deadLettered }, 'final counts');
      },
    };
  },
});
