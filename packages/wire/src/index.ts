import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Domain, ItemOf } from '@tweets/domain';
import { encodeSeq, protoCodec, type Decoded, type ProtoCodec } from './codec.js';

export * from './codec.js';

export { grpc };
export { HealthImplementation, type ServingStatus } from 'grpc-health-check';

/** Keep-alive settings shared by clients and servers so idle channels survive and dead ones are noticed. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  // No transparent retries: a failed call is answered 503 upstream and retried
  // with the same ids by the client; buffering every message for a retry that
  // rarely comes costs CPU on every call.
  'grpc.enable_retries': 0,
};

/** The answer to one item: the seed's response, its status under the domain's name for it (`status`, `estado`); `id` is an extension. */
export type OneResponse = { id: string } & Record<string, string>;

/** The answer to a batch. On a stream, `seq` names the batch and `code` says how it ended (0: every item is durably in the broker). */
export interface BatchResponse {
  status: string;
  count: number;
  seq: number;
  code: number;
  details: string;
}

/** A domain's gRPC contract, loaded from its proto file the first time it is asked for (never on import). */
export interface Contract<D extends Domain = Domain> {
  domain: D;
  /** The fully qualified service name, as health checks and reflection name it. */
  serviceName: string;
  /** The service as the proto loader defines it: the seed's paths, and the extensions beside them. */
  service: grpc.ServiceDefinition;
  Client: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;
  codec: ProtoCodec<D>;
  /** The rpcs: one item (the seed's), a batch, a stream of batches. */
  one: grpc.MethodDefinition<unknown, unknown>;
  batch: grpc.MethodDefinition<unknown, unknown>;
  stream: grpc.MethodDefinition<unknown, unknown>;
}

export function protoPath(d: Domain): string {
  return fileURLToPath(new URL(`../../proto/${d.proto.file}`, import.meta.url));
}

const contracts = new WeakMap<Domain, Contract>();

export function contract<D extends Domain>(d: D): Contract<D> {
  const known = contracts.get(d);
  if (known) return known as unknown as Contract<D>;
  const def = protoLoader.loadSync(protoPath(d), { keepCase: true, enums: String, longs: Number, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def)[d.proto.package] as unknown as Record<string, grpc.ServiceClientConstructor>;
  const Client = pkg[d.proto.service];
  if (!Client) throw new Error(`${protoPath(d)} has no service ${d.proto.package}.${d.proto.service}`);
  const rpc = (name: string) => {
    const m = Client.service[name];
    if (!m) throw new Error(`${d.proto.service} has no rpc ${name}`);
    return m;
  };
  const c: Contract<D> = {
    domain: d,
    serviceName: `${d.proto.package}.${d.proto.service}`,
    service: Client.service,
    Client,
    codec: protoCodec(d),
    one: rpc(d.proto.rpc.one),
    batch: rpc(d.proto.rpc.batch),
    stream: rpc(d.proto.rpc.stream),
  };
  contracts.set(d, c as unknown as Contract);
  return c;
}

/**
 * Calls spread round-robin over every address the target resolves to: a
 * Kubernetes headless Service (`dns:///writer-kafka.tweets.svc:50051`) gives
 * one per writer pod, `ipv4:127.0.0.1:50051,127.0.0.1:50061` lists them. With
 * one address it is the same as the default. The channel re-resolves the name
 * when a connection ends (a writer's maximum connection age, a pod gone).
 */
const ROUND_ROBIN = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

/** One long-lived channel to a path's writers (one or several replicas); calls are multiplexed over it. */
export function createWriterClient(c: Contract, target: string): grpc.Client {
  return new c.Client(target, grpc.credentials.createInsecure(), { ...CHANNEL_OPTIONS, 'grpc.service_config': ROUND_ROBIN });
}

const passThrough = (b: Buffer) => b;

function call<Res>(client: grpc.Client, method: grpc.MethodDefinition<unknown, unknown>, bytes: Buffer, deadlineMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<Buffer, Res>(
      method.path,
      passThrough,
      method.responseDeserialize as (b: Buffer) => Res,
      bytes,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, res) => (err ? reject(err) : resolve(res!)),
    );
  });
}

/** The seed's rpc for one item, with a deadline; rejects with the gRPC status on failure. */
export function sendOne<D extends Domain>(c: Contract<D>, client: grpc.Client, item: ItemOf<D>, deadlineMs: number): Promise<OneResponse> {
  return call(client, c.one, c.codec.encodeRequest(item), deadlineMs);
}

/** The batch rpc, with a deadline; rejects with the gRPC status on failure. */
export function sendBatch<D extends Domain>(
  c: Contract<D>,
  client: grpc.Client,
  items: readonly ItemOf<D>[],
  deadlineMs: number,
): Promise<BatchResponse> {
  return call(client, c.batch, c.codec.encodeBatch(items), deadlineMs);
}

/**
 * The writer's view of the service: the seed's names and paths, with requests
 * decoded and checked by the direct codec (the API's rules: the proto's zero
 * values and out-of-range numbers are invalid). The seed rpc's id is optional on
 * the wire, for clients generated from the seed's proto: `makeId` supplies one.
 */
export function writerServiceDefinition<D extends Domain>(c: Contract<D>, makeId: () => string): grpc.ServiceDefinition {
  return {
    [c.domain.proto.rpc.one]: { ...c.one, requestDeserialize: (b: Buffer) => c.codec.decodeRequest(b, makeId) },
    [c.domain.proto.rpc.batch]: { ...c.batch, requestDeserialize: (b: Buffer) => c.codec.decodeBatch(b) },
    [c.domain.proto.rpc.stream]: { ...c.stream, requestDeserialize: (b: Buffer) => c.codec.decodeBatch(b) },
  };
}

/** A gRPC error as the dispatcher reads it: a status code and details. */
export function statusError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata: new grpc.Metadata() });
}

/**
 * A batch's error when its stream failed under it (the connection dropped, the writer stopped), not the
 * writer's answer: whether the writer published it is unknown, and it may be sent again.
 */
export type StreamLost = grpc.ServiceError & { streamLost: true };
const lost = (e: grpc.ServiceError): StreamLost => Object.assign(e, { streamLost: true as const });
export const isStreamLost = (e: unknown): e is StreamLost => (e as Partial<StreamLost> | undefined)?.streamLost === true;

interface StreamSession {
  call: grpc.ClientDuplexStream<Buffer, BatchResponse>;
  pending: Map<number, { resolve: (r: BatchResponse) => void; reject: (e: grpc.ServiceError) => void; timer: NodeJS.Timeout }>;
  openedAt: number;
  /** Replaced by a newer stream: half-closed once its last batch is answered. */
  retired: boolean;
}

/**
 * Encoded batches to a path's writers over one long-lived stream rpc: the cost
 * of a gRPC call (stream set-up, headers, trailers; most of a unary call's CPU)
 * is paid once, not per batch. Each batch is numbered, has its own deadline,
 * and settles with the writer's answer for its number. When the stream fails
 * or the writer ends it (it stops), the batches waiting on it fail as
 * UNAVAILABLE and the next batch opens a new stream.
 *
 * A stream lives on one connection, so on one writer replica. With `maxAgeMs`,
 * the first batch after that age opens a new stream (which the channel's
 * round-robin places on the next replica, new ones included) and the old one
 * is half-closed once its batches are answered: nothing in flight fails.
 */
export class BatchStream {
  #session: StreamSession | undefined;
  readonly #retired = new Set<StreamSession>();
  #seq = 0;

  constructor(
    private readonly c: Contract,
    private readonly client: grpc.Client,
    private readonly maxAgeMs = 0,
  ) {}

  /** Batches sent and not answered yet. */
  get pending(): number {
    let n = this.#session?.pending.size ?? 0;
    for (const s of this.#retired) n += s.pending.size;
    return n;
  }

  /** A batch on the current stream, or with `fresh` on a new one (the current one may be on a dropped connection). */
  send(batch: Buffer, deadlineMs: number, fresh = false): Promise<BatchResponse> {
    let s = this.#session;
    if (s && (fresh || (this.maxAgeMs > 0 && Date.now() - s.openedAt >= this.maxAgeMs))) {
      this.#retire(s);
      s = undefined;
    }
    s ??= this.#open();
    const session = s;
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        session.pending.delete(seq);
        this.#settle(session);
        reject(statusError(grpc.status.DEADLINE_EXCEEDED, `no answer from the writer within ${deadlineMs} ms`));
      }, deadlineMs);
      session.pending.set(seq, { resolve, reject, timer });
      session.call.write(Buffer.concat([batch, encodeSeq(seq)]));
    });
  }

  /** Ends the streams; batches still waiting fail. */
  close(): void {
    for (const s of [...this.#retired, ...(this.#session ? [this.#session] : [])]) {
      this.#fail(s, statusError(grpc.status.UNAVAILABLE, 'the stream was closed'));
      s.call.end();
    }
  }

  #open(): StreamSession {
    const call = this.client.makeBidiStreamRequest<Buffer, BatchResponse>(
      this.c.stream.path,
      passThrough,
      this.c.stream.responseDeserialize as (b: Buffer) => BatchResponse,
    );
    const s: StreamSession = { call, pending: new Map(), openedAt: Date.now(), retired: false };
    call.on('data', (r: BatchResponse) => {
      const p = s.pending.get(r.seq);
      if (!p) return; // answered after its deadline
      s.pending.delete(r.seq);
      clearTimeout(p.timer);
      if (r.code === grpc.status.OK) p.resolve(r);
      else p.reject(statusError(r.code, r.details));
      this.#settle(s);
    });
    call.on('error', (err: grpc.ServiceError) =>
      this.#fail(s, lost(statusError(err.code ?? grpc.status.UNAVAILABLE, err.details || err.message))),
    );
    call.on('end', () => this.#fail(s, lost(statusError(grpc.status.UNAVAILABLE, 'the writer ended the stream'))));
    this.#session = s;
    return s;
  }

  #retire(s: StreamSession): void {
    if (this.#session === s) this.#session = undefined;
    s.retired = true;
    this.#retired.add(s);
    this.#settle(s);
  }

  /** A retired stream with nothing left to answer is half-closed; the writer then ends it. */
  #settle(s: StreamSession): void {
    if (s.retired && s.pending.size === 0 && this.#retired.delete(s)) s.call.end();
  }

  #fail(s: StreamSession, err: grpc.ServiceError): void {
    if (this.#session === s) this.#session = undefined;
    this.#retired.delete(s);
    for (const p of s.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    s.pending.clear();
  }
}

export type { Decoded };
