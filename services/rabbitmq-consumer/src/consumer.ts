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
import { createConsumerCore, type AdapterContext, type ConsumerCore, type Poison, type RunningConsumer } from '@tweets/consumer';
import type { Domain } from '@tweets/domain';
import type { Logger } from '@tweets/runtime';
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

/** The consumer's state: the current connection's link, and whether a batch is being applied. */
interface State {
  link?: Link;
  stopping: boolean;
  pumping?: Promise<void>;
  scheduled: boolean;
}

/** Publishes poison to the dead-letter queue on its connection's confirm channel; resolves when all are confirmed. */
function deadLetter(dlqName: string, poison: Poison<Link>[]): Promise<unknown> {
  const l = poison[0]!.delivery.ref;
  const one = (p: Poison<Link>) =>
    new Promise<void>((resolve, reject) =>
      l.dlq.publish(
        '',
        dlqName,
        p.body,
        { persistent: true, messageId: p.messageId, headers: { [POISON_REASON_HEADER]: p.reason } },
        (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
      ),
    );
  return Promise.all(poison.map(one));
}

/** Applies a batch, then acks it and every earlier delivery with one multiple-ack, if its channel is still open. */
async function applyAndAck(core: ConsumerCore<Link>, l: Link, batch: ConsumeMessage[]): Promise<void> {
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

/**
 * Takes the pending deliveries in batches, one batch at a time and in delivery order; a batch that fails
 * closes its connection, so its deliveries come back on the next one. `schedule` runs it after the current
 * socket read, so the deliveries that arrive together are taken together.
 */
function createPump(cfg: RabbitConsumerConfig, core: ConsumerCore<Link>, s: State, log: Logger) {
  async function applyPending(): Promise<void> {
    while (s.link && s.link.open && s.link.pending.length > 0) {
      const l = s.link;
      if (l.pending.length < cfg.BATCH_MAX && cfg.BATCH_LINGER_MS > 0 && !s.stopping) await sleep(cfg.BATCH_LINGER_MS);
      if (!l.open) break;
      const batch = l.pending.splice(0, cfg.BATCH_MAX);
      try {
        await applyAndAck(core, l, batch);
      } catch (err) {
        log.warn({ err: { message: (err as Error).message }, count: batch.length }, 'batch not applied; reconnecting for redelivery');
        l.open = false;
        l.pending.length = 0;
        await l.model.close().catch(() => {});
      }
    }
  }
  function pump(): void {
    s.scheduled = false;
    if (s.pumping) return;
    s.pumping = applyPending().finally(() => {
      s.pumping = undefined;
      if (s.link?.open && s.link.pending.length > 0) schedule();
    });
  }
  function schedule(): void {
    if (s.scheduled) return;
    s.scheduled = true;
    setImmediate(pump);
  }
  return { pump, schedule };
}

/** A new connection's channels and consumer: deliveries go to the link's pending list; a closed channel ends the link. */
async function openLink(model: ChannelModel, cfg: RabbitConsumerConfig, s: State, schedule: () => void, log: Logger): Promise<void> {
  const ch = await model.createChannel();
  const dlq = await model.createConfirmChannel();
  await ch.prefetch(cfg.PREFETCH);
  await declareQueues(ch, cfg);
  const l: Link = { model, ch, dlq, open: true, consumerTag: '', pending: [] };
  const lost = () => {
    if (!l.open) return;
    l.open = false;
    l.pending.length = 0;
    if (!s.stopping) void model.close().catch(() => {});
  };
  for (const c of [ch, dlq]) {
    c.on('close', lost);
    c.on('error', (err: Error) => log.warn({ err: { message: err.message } }, 'rabbitmq channel error'));
  }
  s.link = l;
  const onDelivery = (msg: ConsumeMessage | null) => {
    if (msg === null) return lost(); // the broker cancelled the consumer (queue deleted)
    l.pending.push(msg);
    schedule();
  };
  l.consumerTag = (await ch.consume(cfg.RABBITMQ_QUEUE, onDelivery, { noAck: false })).consumerTag;
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
  const s: State = { stopping: false, scheduled: false };
  const { log } = ctx;
  const dlqName = deadLetterQueue(cfg.RABBITMQ_QUEUE);
  const core = createConsumerCore<D, Link>({
    ...ctx,
    path: 'rabbitmq',
    batchMax: cfg.BATCH_MAX,
    stopping: () => s.stopping,
    deadLetter: (poison) => deadLetter(dlqName, poison).then(() => undefined),
  });
  const { pump, schedule } = createPump(cfg, core, s, log);
  const conn = await connectRabbit({
    url: cfg.RABBITMQ_URL,
    name: 'rabbitmq-consumer',
    setup: (model) => openLink(model, cfg, s, schedule, log),
    onEvent: (event, detail) => (event === 'connected' ? log.info('rabbitmq connected') : log.warn({ detail }, `rabbitmq ${event}`)),
  });
  return {
    counts: core.counts,
    store: core.store,
    ready: () => !s.stopping && s.link?.open === true,
    async stop() {
      // No new deliveries; apply and ack what was delivered, then close.
      const l = s.link;
      if (l?.open && l.consumerTag) await l.ch.cancel(l.consumerTag).catch(() => {});
      while (s.pumping || (l?.open && l.pending.length > 0)) {
        pump();
        await s.pumping;
      }
      s.stopping = true;
      await conn.close();
    },
  };
}
