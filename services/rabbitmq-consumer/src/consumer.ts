import { setTimeout as sleep } from 'node:timers/promises';
import {
  connectRabbit,
  deadLetterQueue,
  POISON_REASON_HEADER,
  declareQueues,
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
} from '@tweets/brokers';
import { createConsumerCore, type AdapterContext, type RunningConsumer } from '@tweets/consumer';
import type { Domain } from '@tweets/domain';
import type { RabbitConsumerConfig } from './config.js';

/** What one connection made: its channels and the deliveries not yet applied. */
interface Link {
  model: ChannelModel;
  ch: Channel;
  dlq: ConfirmChannel;
  open: boolean;
  consumerTag: string;
  pending: ConsumeMessage[];
}

/**
 * The RabbitMQ adapter around the consumer core: deliveries within a prefetch
 * window are gathered into batches (up to BATCH_MAX, or BATCH_LINGER_MS), the
 * core applies each, and the batch is acked with one multiple-ack on its
 * channel. Batches of a channel run one at a time and in delivery order, so
 * the multiple-ack covers exactly this batch and earlier, already acked, ones.
 * Poison goes to `<queue>.dlq`, confirmed, before it is acked. If the channel
 * closed meanwhile, nothing is acked: the broker redelivers on the next
 * connection, and the per-id dedup in Valkey makes that harmless.
 */
export async function startRabbitConsumer<D extends Domain>(cfg: RabbitConsumerConfig, ctx: AdapterContext<D>): Promise<RunningConsumer> {
  const dlqName = deadLetterQueue(cfg.RABBITMQ_QUEUE);
  let stopping = false;
  let link: Link | undefined;
  let pumping: Promise<void> | undefined;
  let scheduled = false;

  const { log } = ctx;
  const core = createConsumerCore<D, Link>({
    ...ctx,
    path: 'rabbitmq',
    batchMax: cfg.BATCH_MAX,
    stopping: () => stopping,
    async deadLetter(poison) {
      const l = poison[0]!.delivery.ref;
      await Promise.all(
        poison.map(
          (p) =>
            new Promise<void>((resolve, reject) =>
              l.dlq.publish(
                '',
                dlqName,
                p.body,
                { persistent: true, messageId: p.messageId, headers: { [POISON_REASON_HEADER]: p.reason } },
                (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
              ),
            ),
        ),
      );
    },
  });

  async function handle(l: Link, batch: ConsumeMessage[]): Promise<void> {
    await core.handle(
      batch.map((msg) => ({
        body: msg.content,
        contentType: msg.properties.contentType as string | undefined,
        messageId: msg.properties.messageId as string | undefined,
        ref: l,
      })),
    );
    if (l.open) l.ch.ack(batch[batch.length - 1]!, true);
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
      await declareQueues(ch, cfg);
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

  return {
    counts: core.counts,
    store: core.store,
    ready: () => !stopping && link?.open === true,
    async stop() {
      // No new deliveries; apply and ack what was delivered, then close.
      const l = link;
      if (l?.open && l.consumerTag) await l.ch.cancel(l.consumerTag).catch(() => {});
      while (pumping || (l?.open && l.pending.length > 0)) {
        pump();
        await pumping;
      }
      stopping = true;
      await conn.close();
    },
  };
}
