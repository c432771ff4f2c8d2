import { hostPort, int, loadConfig, oneOf, str } from '@tweets/kit';

export const ROUTES = { both: ['kafka', 'rabbitmq'], kafka: ['kafka'], rabbitmq: ['rabbitmq'] } as const;

export const spec = {
  HOST: str({ default: '127.0.0.1' }),
  PORT: int({ default: 8081, min: 1, max: 65535 }),
  /** Which brokers every tweet goes to. The seed compares them, so both by default. */
  ROUTE: oneOf(['both', 'kafka', 'rabbitmq'] as const, { default: 'both' }),
  KAFKA_WRITER_ADDR: hostPort({ default: '127.0.0.1:50051' }),
  RABBITMQ_WRITER_ADDR: hostPort({ default: '127.0.0.1:50052' }),
  /** Deadline of one SendTweet or SendTweets call; the API's own timeout is longer. */
  RPC_DEADLINE_MS: int({ default: 1200, min: 50, max: 60_000 }),
  /**
   * For single tweets (POST /v1/tweets):
   * batch: tweets that arrive together go in one SendTweets call per writer.
   * unary: one SendTweet call per tweet and writer (the naive baseline the benchmark measures).
   */
  DISPATCH_MODE: oneOf(['batch', 'unary'] as const, { default: 'batch' }),
  /**
   * How batches (POST /v1/tweets/batch) reach the writers:
   * stream: over one long-lived SendTweetStream per writer (a unary call costs about 1 ms of CPU here);
   * call: one SendTweets call per batch.
   */
  BATCH_TRANSPORT: oneOf(['stream', 'call'] as const, { default: 'stream' }),
  /** Most single tweets coalesced into one SendTweets call. */
  BATCH_MAX: int({ default: 500, min: 1, max: 10_000 }),
  /** Tweets in flight beyond this are refused at once (503): memory stays bounded. */
  MAX_PENDING: int({ default: 10_000, min: 1, max: 1_000_000 }),
  BODY_LIMIT_BYTES: int({ default: 4096, min: 64, max: 1 << 20 }),
  /** Largest batch body (POST /v1/tweets/batch); a tweet is about 60 bytes in protobuf. */
  BATCH_BODY_LIMIT_BYTES: int({ default: 1 << 20, min: 1024, max: 64 << 20 }),
};

export const readConfig = (env = process.env) => loadConfig(spec, env);
