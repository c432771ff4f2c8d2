import type { Domain, ItemOf } from '@tweets/domain';
import { BatchStream, createWriterClient, sendBatch, sendOne, type Contract } from '@tweets/wire';

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

/** A writer over one long-lived gRPC channel, every call with the same deadline. */
export function grpcWriterLink<D extends Domain>(c: Contract<D>, address: string, deadlineMs: number): WriterLink<D> {
  const client = createWriterClient(c, address);
  const stream = new BatchStream(c, client);
  return {
    one: (item) => sendOne(c, client, item, deadlineMs),
    batch: (items) => sendBatch(c, client, items, deadlineMs),
    stream: (batch) => stream.send(batch, deadlineMs),
    close() {
      stream.close();
      client.close();
    },
  };
}
