import { domainFromEnv } from '@tweets/domain';
import { protoCodec } from '@tweets/wire/codec';
import { closeAfterDrain } from '@tweets/http';
import { createRegistry, runService, secretNames } from '@tweets/runtime';
import { connectFromConfig, readRecent, readStats } from '@tweets/store';
import { buildApi } from './app.js';
import { readConfig, spec } from './config.js';
import { createForwarder, logForwarding } from './forward.js';

// The domain this process serves (DOMAIN: weather, the default, or blackfriday); an unknown name stops it here.
const domain = domainFromEnv();

await runService({
  name: 'ingest-api',
  secrets: secretNames(spec(domain)),
  async start(log) {
    const cfg = readConfig(domain);
    const metrics = createRegistry('ingest-api');
    const forwarder = createForwarder({
      metrics,
      url: cfg.DISPATCHER_URL,
      resource: domain.resource,
      batchField: domain.proto.batchField,
      codec: protoCodec(domain),
      mode: cfg.FORWARD_MODE,
      timeoutMs: cfg.FORWARD_TIMEOUT_MS,
      connections: cfg.DISPATCHER_CONNECTIONS,
      lingerMs: cfg.FORWARD_LINGER_MS,
      maxBatches: cfg.FORWARD_MAX_BATCHES,
      batchMax: cfg.FORWARD_BATCH_MAX,
      log,
    });
    const valkey = connectFromConfig(cfg, 'ingest-api', log);
    const stats = () => readStats(valkey, domain, cfg.VALKEY_PREFIX);
    const recent = (path: Parameters<typeof readRecent>[2], limit: number) => readRecent(valkey, domain, path, limit, cfg.VALKEY_PREFIX);
    const app = buildApi({ cfg, domain, forwarder, stats, recent, log, metrics });
    await app.listen({ host: cfg.HOST, port: cfg.PORT });
    const statsTimer = logForwarding(forwarder, log);
    return {
      async stop() {
        clearInterval(statsTimer);
        await closeAfterDrain(app, cfg.DRAIN_DELAY_MS);
        await forwarder.close();
        valkey.disconnect();
      },
    };
  },
});
