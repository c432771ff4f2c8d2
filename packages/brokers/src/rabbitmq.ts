import { createRequire } from 'node:module';
import * as amqp from 'amqplib';
import type { ChannelModel, Options, RecoveringChannelModel } from 'amqplib';

export type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';

export interface RabbitLinkOptions {
  /** amqp://user:password@host:port, or several comma-separated (a cluster's nodes): each connect tries the next. */
  url: string;
  /** Shown in the management UI and `rabbitmqctl list_connections`. */
  name: string;
  /**
   * Runs on every (re)connect: open channels, declare queues, start consumers.
   * Everything made on the previous connection is gone by then.
   */
  setup: (model: ChannelModel) => Promise<void>;
  /** Gives up on the first connection after this long (the service then fails to start). */
  connectTimeoutMs?: number;
  onEvent?: (event: 'connected' | 'disconnected' | 'blocked' | 'unblocked', detail?: string) => void;
}

/**
 * amqplib's muxer moves frames from its channels to the socket one
 * `socket.write` at a time: a batch of 500 publishes, or a round of acks, is
 * 500 system calls and as many small TCP segments for the broker to read.
 * Corking the socket while the muxer runs turns each round into one write.
 * Measured at 5,000 persistent messages/s with confirms: about 20% less CPU
 * in the client and in RabbitMQ (docs/benchmarks.md). amqplib has no option
 * for it (its Mux class, lib/mux.js, writes frame by frame), so this patches
 * Mux.prototype._readIncoming; the version is pinned for that reason. If its
 * shape ever differs the patch is skipped and everything works as before, one
 * write per frame. Called by connectRabbit, not on import; the first call
 * patches, later ones return what it found.
 */
let corked: boolean | undefined;
export function enableCorkedWrites(): boolean {
  if (corked !== undefined) return corked;
  corked = false;
  try {
    const require = createRequire(import.meta.url);
    const main = require.resolve('amqplib');
    const { Mux } = require(main.replace(/channel_api\.js$/, 'lib/mux.js')) as {
      Mux?: { prototype: { _readIncoming?: (this: { out: NodeJS.WritableStream & { cork(): void; uncork(): void } }) => void } };
    };
    const original = Mux?.prototype._readIncoming;
    if (typeof original !== 'function') return corked;
    Mux!.prototype._readIncoming = function corkedRead() {
      const out = this.out;
      out.cork();
      try {
        original.call(this);
      } finally {
        out.uncork();
      }
    };
    corked = true;
  } catch {
    // amqplib's layout changed: one write per frame, as without the patch.
  }
  return corked;
}

/**
 * One long-lived AMQP connection that reconnects by itself (backoff from
 * 200 ms to 2 s, without end once it has connected) and runs `setup` on each
 * connect. A missed heartbeat (10 s) counts as a lost connection.
 *
 * amqplib is used because it writes many publishes and acks in few socket
 * writes and takes multiple-acks; measured, it costs about a third of the CPU
 * per message of the client used before (bench/results, docs/benchmarks.md).
 */
export async function connectRabbit(o: RabbitLinkOptions): Promise<RecoveringChannelModel> {
  enableCorkedWrites();
  const urls = nodeUrls(o.url);
  const connectOptions = { noDelay: true, timeout: 3000, clientProperties: { connection_name: o.name } };
  const socketOptions = {
    ...connectOptions,
    recovery: {
      initialDelay: 200,
      maxDelay: 2000,
      factor: 2,
      jitter: 0.2,
      initialMaxRetries: Math.ceil((o.connectTimeoutMs ?? 6000) / 1000),
      waitForConnect: false,
      setup: o.setup,
    },
  };
  const conn =
    urls.length === 1
      ? await amqp.connect(urls[0]!, socketOptions as Options.Connect & { recovery: amqp.RecoveryOptions })
      : await connectToNodes(urls, connectOptions, socketOptions.recovery);
  conn.on('connect', () => o.onEvent?.('connected'));
  conn.on('disconnect', (err: Error) => o.onEvent?.('disconnected', err.message));
  conn.on('blocked', (reason: string) => o.onEvent?.('blocked', reason));
  conn.on('unblocked', () => o.onEvent?.('unblocked'));
  conn.on('error', () => {}); // reported through 'disconnect'
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      conn.waitForConnect(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`rabbitmq: no connection within ${o.connectTimeoutMs ?? 6000} ms`)),
          o.connectTimeoutMs ?? 6000,
        );
      }),
    ]);
  } catch (err) {
    await conn.close().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return conn;
}

/** Where messages a consumer cannot decode or apply go, with the reason in a header. */
export function deadLetterQueue(queue: string): string {
  return `${queue}.dlq`;
}

/** The queue types the tweet queue and its DLQ may be: quorum (replicated, the default) or classic (one node). */
export const QUEUE_TYPES = ['quorum', 'classic'] as const;
export type QueueType = (typeof QUEUE_TYPES)[number];

export interface QueueSettings {
  RABBITMQ_QUEUE: string;
  RABBITMQ_QUEUE_TYPE: QueueType;
  RABBITMQ_DELIVERY_LIMIT: number;
}

/**
 * The queue's declaration, the same from the writer and the consumer (a mismatch is a channel error):
 * durable, and dead-lettering to the DLQ instead of discarding. A quorum queue (RabbitMQ's replicated
 * queue: a Raft group over the cluster's nodes; a write is confirmed once a majority has it on disk) also
 * dead-letters a message delivered more than `deliveryLimit` times without an ack (a consumer that crashes
 * on it, say), with reason `delivery_limit`: a message that can never be counted ends in the DLQ, where it
 * can be looked at, instead of going round for ever.
 */
export function queueOptions(queue: string, type: QueueType = 'quorum', deliveryLimit = 20): Options.AssertQueue {
  return {
    durable: true,
    arguments: {
      'x-queue-type': type,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': deadLetterQueue(queue),
      ...(type === 'quorum' ? { 'x-delivery-limit': deliveryLimit } : {}),
    },
  };
}

/** Declares the tweet queue and its DLQ (of the same type), as the writer and the consumer both do on every connect. */
export async function declareQueues(
  ch: { assertQueue(q: string, o: Options.AssertQueue): Promise<unknown> },
  s: QueueSettings,
): Promise<void> {
  await ch.assertQueue(deadLetterQueue(s.RABBITMQ_QUEUE), { durable: true, arguments: { 'x-queue-type': s.RABBITMQ_QUEUE_TYPE } });
  await ch.assertQueue(s.RABBITMQ_QUEUE, queueOptions(s.RABBITMQ_QUEUE, s.RABBITMQ_QUEUE_TYPE, s.RABBITMQ_DELIVERY_LIMIT));
}

/** Most items the writer puts in one batch message: about 3.5 KB of tweets, under the size RabbitMQ keeps in its queue index (4 KB). */
export const DEFAULT_RABBITMQ_BATCH_MAX = 32;

/** The URLs of a RABBITMQ_URL (one, or a cluster's nodes comma-separated), each with a 10 s heartbeat unless it sets its own. */
export function nodeUrls(url: string): string[] {
  return url.split(',').map((one) => {
    const u = new URL(one.trim());
    if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', '10');
    return u.toString();
  });
}

type RecoveryModule = { connectWithRecoveryPromise(open: () => Promise<ChannelModel>, recovery: unknown): Promise<RecoveringChannelModel> };

/**
 * A recovering connection over a cluster's nodes: each (re)connect tries the next node, so a client whose
 * node is lost is on another within one backoff step. amqplib's recovery opens one URL only; its recovering
 * model takes any function that opens a connection (lib/recovery.js of the pinned version, which throws
 * here if its shape ever differs).
 */
async function connectToNodes(urls: string[], options: object, recovery: unknown): Promise<RecoveringChannelModel> {
  const require = createRequire(import.meta.url);
  const mod = require(require.resolve('amqplib').replace(/channel_api\.js$/, 'lib/recovery.js')) as Partial<RecoveryModule>;
  if (typeof mod.connectWithRecoveryPromise !== 'function')
    throw new Error('amqplib: no recovering connection over several nodes in this version');
  let next = 0;
  const open = () => amqp.connect(urls[next++ % urls.length]!, options);
  return mod.connectWithRecoveryPromise(open, recovery);
}
