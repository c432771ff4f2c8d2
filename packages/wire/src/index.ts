import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type Tweet, type Validation, validateIdentifiedTweet } from '@tweets/tweet';

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

/** One unary SendTweet with a deadline; rejects with the gRPC status on failure. */
export function sendTweet(client: WeatherTweetClient, t: Tweet, deadlineMs: number): Promise<WeatherTweetResponse> {
  return new Promise((resolve, reject) => {
    client.SendTweet(toRequest(t), new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
      if (err) reject(err);
      else resolve(res ?? { status: '', id: '' });
    });
  });
}

/** One SendTweets for a batch, with a deadline; rejects with the gRPC status on failure. */
export function sendTweets(client: WeatherTweetClient, tweets: readonly Tweet[], deadlineMs: number): Promise<WeatherTweetBatchResponse> {
  return new Promise((resolve, reject) => {
    client.SendTweets({ tweets: tweets.map(toRequest) }, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
      if (err) reject(err);
      else resolve(res ?? { status: '', count: 0 });
    });
  });
}

export function toRequest(t: Tweet): WeatherTweetRequest {
  return { municipality: t.municipality, temperature: t.temperature, humidity: t.humidity, weather: t.weather, id: t.id };
}

/**
 * Checks a request as a writer receives it, with the same rules as the API:
 * the proto's zero values (`*_unknown`) and out-of-range numbers are invalid.
 * The id is optional on the wire, for clients generated from the seed's
 * proto: when it is empty the caller's `makeId` supplies one.
 */
export function fromRequest(req: WeatherTweetRequest, makeId: () => string): Validation<Tweet> {
  const { id, municipality, temperature, humidity, weather } = req;
  return validateIdentifiedTweet({ id: id === '' ? makeId() : id, municipality, temperature, humidity, weather });
}

export { HealthImplementation, type ServingStatus } from 'grpc-health-check';
