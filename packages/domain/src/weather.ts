import { BROKERS, type Domain, type FieldsOf, type ItemOf } from './define.js';

/**
 * The weather tweet of the seed (section 4.3.1), with the seed's enum names
 * and numbers: a municipality, an integer temperature and humidity, and a
 * weather condition. The `*_unknown` zero values are never valid input. The
 * dashboard counts reports per (municipality, weather) and averages the
 * temperature and humidity per municipality. This is the only place in the
 * code that names them.
 */
export const weather = {
  name: 'weather',
  item: 'tweet',
  resource: '/tweets',
  fields: {
    municipality: {
      kind: 'enum',
      number: 1,
      type: 'Municipalities',
      zero: 'municipalities_unknown',
      values: ['mixco', 'guatemala', 'amatitlan', 'chinautla'],
    },
    /** Degrees Celsius. Guatemala ranges from about -10 to 45; wider is implausible. */
    temperature: { kind: 'int', number: 2, min: -50, max: 60, sample: [10, 30] },
    /** Relative humidity, percent. */
    humidity: { kind: 'int', number: 3, min: 0, max: 100, sample: [30, 95] },
    weather: { kind: 'enum', number: 4, type: 'Weathers', zero: 'weathers_unknown', values: ['sunny', 'cloudy', 'rainy', 'foggy'] },
  },
  idNumber: 5,
  groupBy: 'municipality',
  countBy: 'weather',
  sums: ['temperature', 'humidity'],
  // 0-2 mixco, 3-5 guatemala, 6-7 amatitlan, 8-9 chinautla
  groupByIdDigit: ['mixco', 'mixco', 'mixco', 'guatemala', 'guatemala', 'guatemala', 'amatitlan', 'amatitlan', 'chinautla', 'chinautla'],
  paths: BROKERS,
  keyPrefix: 'wt',
  dashboard: { title: 'Weather reports', uid: 'weather-reports', sums: 'averages' },
  proto: {
    package: 'wethertweet',
    service: 'WeatherTweetService',
    file: 'wethertweet.proto',
    rpc: { one: 'SendTweet', batch: 'SendTweets', stream: 'SendTweetStream' },
    batchField: 'tweets',
    statusField: 'status',
  },
  broker: {
    topic: 'weather-tweets',
    queue: 'weather-tweets',
    consumerGroup: 'weather-tweets-valkey',
    contentType: 'application/vnd.weather-tweet.v1+json',
    batchContentType: 'application/vnd.weather-tweet-batch.v1+json',
  },
} as const satisfies Domain;

export type WeatherDomain = typeof weather;
export type TweetFields = FieldsOf<WeatherDomain>;
export type Tweet = ItemOf<WeatherDomain>;
export type Municipality = TweetFields['municipality'];
export type Weather = TweetFields['weather'];
