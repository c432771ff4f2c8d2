import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Tweet } from '@tweets/tweet';
import { decodeBatch, decodeRequest, encodeBatch, encodeRequest, encodeSeq } from './codec.js';

export * from './codec.js';

export { grpc };

export const PROTO_PATH = fileURLToPath(new URL('../../proto/wethertweet.proto', import.meta.url));
/** The fully qualified service name, as health checks and reflection name it. */
export const SERVICE_NAME = 'wethertweet.WeatherTweetService';

/** WeatherTweetRequest as the loader presents it: enums by name, ints as numbers, id '' when unset. */
export interface WeatherTweetRequest {
  municipality: string;
  temperature: number;
  humidity: number;
  weather: string;
  id: string;
}

export interface WeatherTweetResponse {
  status: string;
  id: string;
}

const packageDefinition = protoLoader.loadSync(PROTO_PATH, {
  keepCase: true,
  enums: String,
  longs: Number,
  defaults: true,
  oneofs: true,
});

interface WeatherTweetServiceClientCtor {
  new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions): grpc.Client;
  service: grpc.ServiceDefinition;
}

const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  wethertweet: { WeatherTweetService: WeatherTweetServiceClientCtor };
};

export const WeatherTweetService = loaded.wethertweet.WeatherTweetService;

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

export interface WeatherTweetBatch {
  tweets: WeatherTweetRequest[];
}

export interface WeatherTweetBatchResponse {
  status: string;
  count: number;
  seq: number;
  code: number;
  details: string;
}

export interface WeatherTweetClient extends grpc.Client {
  SendTweets(
    req: WeatherTweetBatch,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: WeatherTweetBatchResponse) => void,
  ): grpc.ClientUnaryCall;
  SendTweet(
    req: WeatherTweetRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    cb: (err: grpc.ServiceError | null, res?: WeatherTweetResponse) => void,
  ): grpc.ClientUnaryCall;
}

/** One long-lived channel to a writer; calls are multiplexed over it. */
export function createWriterClient(address: string): WeatherTweetClient {
  return new WeatherTweetService(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as WeatherTweetClient;
}

const rpc = (name: 'SendTweet' | 'SendTweets' | 'SendTweetStream') => WeatherTweetService.service[name]!;
const passThrough = (b: Buffer) => b;

function call<Res>(client: grpc.Client, name: 'SendTweet' | 'SendTweets', bytes: Buffer, deadlineMs: number): Promise<Res> {
  const def = rpc(name);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest<Buffer, Res>(
      def.path,
      passThrough,
      def.responseDeserialize as (b: Buffer) => Res,
      bytes,
      new grpc.Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, res) => (err ? reject(err) : resolve(res!)),
    );
  });
}

/** One unary SendTweet with a deadline; rejects with the gRPC status on failure. */
export function sendTweet(client: grpc.Client, t: Tweet, deadlineMs: number): Promise<WeatherTweetResponse> {
  return call(client, 'SendTweet', encodeRequest(t), deadlineMs);
}

/** One SendTweets for a batch, with a deadline; rejects with the gRPC status on failure. */
export function sendTweets(client: grpc.Client, tweets: readonly Tweet[], deadlineMs: number): Promise<WeatherTweetBatchResponse> {
  return call(client, 'SendTweets', encodeBatch(tweets), deadlineMs);
}

/** SendTweets with a WeatherTweetBatch already encoded (and checked): the bytes go on the wire as they are. */
export function sendEncodedBatch(client: grpc.Client, batch: Buffer, deadlineMs: number): Promise<WeatherTweetBatchResponse> {
  return call(client, 'SendTweets', batch, deadlineMs);
}

/**
 * The writer's view of the service: the seed's names and paths, with requests
 * decoded and checked by the direct codec (the API's rules: the proto's zero
 * values and out-of-range numbers are invalid). SendTweet's id is optional on
 * the wire, for clients generated from the seed's proto: `makeId` supplies one.
 */
export function writerServiceDefinition(makeId: () => string): grpc.ServiceDefinition {
  return {
    SendTweet: { ...rpc('SendTweet'), requestDeserialize: (b: Buffer) => decodeRequest(b, makeId) },
    SendTweets: { ...rpc('SendTweets'), requestDeserialize: (b: Buffer) => decodeBatch(b) },
    SendTweetStream: { ...rpc('SendTweetStream'), requestDeserialize: (b: Buffer) => decodeBatch(b) },
  };
}

/** A gRPC error as the dispatcher reads it: a status code and details. */
function statusError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata: new grpc.Metadata() });
}

interface StreamSession {
  call: grpc.ClientDuplexStream<Buffer, WeatherTweetBatchResponse>;
  pending: Map<number, { resolve: (r: WeatherTweetBatchResponse) => void; reject: (e: grpc.ServiceError) => void; timer: NodeJS.Timeout }>;
}

/**
 * Encoded batches to one writer over one long-lived SendTweetStream: the cost
 * of a gRPC call (stream set-up, headers, trailers; most of a unary call's CPU)
 * is paid once, not per batch. Each batch is numbered, has its own deadline,
 * and settles with the writer's answer for its number. When the stream fails
 * or the writer ends it (it stops), the batches waiting on it fail as
 * UNAVAILABLE and the next batch opens a new stream.
 */
export class BatchStream {
  #session: StreamSession | undefined;
  #seq = 0;

  constructor(private readonly client: grpc.Client) {}

  /** Batches sent and not answered yet. */
  get pending(): number {
    return this.#session?.pending.size ?? 0;
  }

  send(batch: Buffer, deadlineMs: number): Promise<WeatherTweetBatchResponse> {
    const s = this.#session ?? this.#open();
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        s.pending.delete(seq);
        reject(statusError(grpc.status.DEADLINE_EXCEEDED, `no answer from the writer within ${deadlineMs} ms`));
      }, deadlineMs);
      s.pending.set(seq, { resolve, reject, timer });
      s.call.write(Buffer.concat([batch, encodeSeq(seq)]));
    });
  }

  /** Ends the stream; batches still waiting fail. */
  close(): void {
    const s = this.#session;
    if (!s) return;
    this.#fail(s, statusError(grpc.status.UNAVAILABLE, 'the stream was closed'));
    s.call.end();
  }

  #open(): StreamSession {
    const def = rpc('SendTweetStream');
    const call = this.client.makeBidiStreamRequest<Buffer, WeatherTweetBatchResponse>(
      def.path,
      passThrough,
      def.responseDeserialize as (b: Buffer) => WeatherTweetBatchResponse,
    );
    const s: StreamSession = { call, pending: new Map() };
    call.on('data', (r: WeatherTweetBatchResponse) => {
      const p = s.pending.get(r.seq);
      if (!p) return; // answered after its deadline
      s.pending.delete(r.seq);
      clearTimeout(p.timer);
      if (r.code === grpc.status.OK) p.resolve(r);
      else p.reject(statusError(r.code, r.details));
    });
    call.on('error', (err: grpc.ServiceError) => this.#fail(s, statusError(err.code ?? grpc.status.UNAVAILABLE, err.details || err.message)));
    call.on('end', () => this.#fail(s, statusError(grpc.status.UNAVAILABLE, 'the writer ended the stream')));
    this.#session = s;
    return s;
  }

  #fail(s: StreamSession, err: grpc.ServiceError): void {
    if (this.#session === s) this.#session = undefined;
    for (const p of s.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    s.pending.clear();
  }
}

export { HealthImplementation, type ServingStatus } from 'grpc-health-check';
