import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { Tweet } from '@tweets/tweet';
import { decodeBatch, decodeRequest, encodeBatch, encodeRequest } from './codec.js';

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

const rpc = (name: 'SendTweet' | 'SendTweets') => WeatherTweetService.service[name]!;
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
  };
}

export { HealthImplementation, type ServingStatus } from 'grpc-health-check';
