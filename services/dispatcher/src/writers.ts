import type { Domain, ItemOf } from '@tweets/domain';
import { BatchStream, createWriterClient, isStreamLost, sendBatch, sendOne, type Contract } from '@tweets/wire';

/** How the dispatcher reaches one writer: each call resolves once the writer reports every item durably in its broker. */
export interface WriterLink<D extends Domain = Domain> {
  /** One item, by the seed's rpc. */
  one(item: ItemOf<D>): Promise<unknown>;
  /** Items as one batch call. */
  batch(items: readonly ItemOf<D>[]): Promise<unknown>;
  /** An encoded batch, passed on as it is, numbered on the writer's long-lived stream. */
  stream(batch: Buffer): Promise<unknown>;
  close(): void;
}

export interface LinkOptions {
  /** Deadline of every call and streamed batch. */
  deadlineMs: number;
  /** Streams kept open; each batch goes on the one with the fewest batches waiting. */
  streams: number;
  /** A stream older than this is replaced at its next batch; 0: never. */
  streamMaxAgeMs: number;
}

/**
 * A path's writers over one long-lived gRPC channel. The target may resolve
 * to several writer replicas (a headless Service, an `ipv4:` list): unary
 * calls go round-robin over them, and so does each new stream, so with as
 * many streams as replicas (or more) batches spread over all of them. Streams
 * are replaced as they age, so replicas that came up later get their share.
 */
export function grpcWriterLink<D extends Domain>(c: Contract<D>, target: string, o: LinkOptions): WriterLink<D> {
  const client = createWriterClient(c, target);
  const streams = Array.from({ length: o.streams }, () => new BatchStream(c, client, o.streamMaxAgeMs));
  let next = 0;
  const pick = () => {
    // the least busy, starting from the next in turn so that ties rotate
    let best = streams[next]!;
    for (let i = 1; i < streams.length; i++) {
      const s = streams[(next + i) % streams.length]!;
      if (s.pending < best.pending) best = s;
    }
    next = (next + 1) % streams.length;
    return best;
  };
  return {
    one: (item) => sendOne(c, client, item, o.deadlineMs),
    batch: (items) => sendBatch(c, client, items, o.deadlineMs),
    stream: (batch) => sendAgainIfDropped(batch, pick, o.deadlineMs),
    close() {
      for (const s of streams) s.close();
      client.close();
    },
  };
}

const RESEND_AFTER_MS = 20;

/**
 * A streamed batch, sent once more on a new stream if its stream was lost under it (a writer's connection
 * closed at its maximum age with the batch on it, or the writer went away: grpc-js reports the first as
 * UNAVAILABLE or as INTERNAL "RST_STREAM with code 0", by timing), within what is left of the deadline. A
 * writer's answer is never sent again. The writer may have published the first copy: the consumers count
 * each id once, as they do for a client's retry.
 */
async function sendAgainIfDropped(batch: Buffer, pick: () => BatchStream, deadlineMs: number): Promise<unknown> {
  const started = Date.now();
  try {
    return await pick().send(batch, deadlineMs);
  } catch (err) {
    const left = deadlineMs - (Date.now() - started);
    if (!isStreamLost(err) || left < deadlineMs / 2) throw err;
    // on a new stream, once the connection's loss has reached the channel and every stream on it: the other
    // streams of the path may still hold the dropped connection when the first of them fails
    await new Promise((r) => setTimeout(r, RESEND_AFTER_MS));
    return pick().send(batch, left - RESEND_AFTER_MS, true);
  }
}
