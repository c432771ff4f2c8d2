import { runConsumerService } from '@tweets/consumer';
import { domainFromEnv } from '@tweets/domain';
import { secretNames } from '@tweets/runtime';
import { readConfig, spec } from './config.js';
import { startRabbitConsumer } from './consumer.js';

// The domain this process serves (DOMAIN: weather, the default, or blackfriday); an unknown name stops it here.
const domain = domainFromEnv();

await runConsumerService({
  name: 'rabbitmq-consumer',
  domain,
  secrets: secretNames(spec(domain)),
  readConfig: () => readConfig(domain),
  start: startRabbitConsumer,
});
