import { runConsumerService } from '@tweets/consumer';
import { weather } from '@tweets/domain';
import { secretNames } from '@tweets/kit';
import { readConfig, spec } from './config.js';
import { startKafkaConsumer } from './consumer.js';

await runConsumerService({
  name: 'kafka-consumer',
  domain: weather,
  secrets: secretNames(spec(weather)),
  readConfig: () => readConfig(weather),
  start: startKafkaConsumer,
});
