import { domainFromEnv } from '@tweets/domain';
import { closeServer, createRegistry, runService, startHealthServer } from '@tweets/runtime';
import { readConfig, secrets } from './config.js';
import { createKafkaPublisher, createRabbitPublisher } from './publisher.js';
import { startWriterServer } from './server.js';

// The domain this process serves (DOMAIN: weather, the default, or blackfriday); an unknown name stops it here.
const domain = domainFromEnv();

await runService({
  name: `writer-${process.env.BROKER ?? 'unknown'}`,
  secrets,
  async start(log) {
    const cfg = readConfig(domain);
    const publisher = cfg.BROKER === 'kafka' ? await createKafkaPublisher(cfg, domain, log) : await createRabbitPublisher(cfg, domain, log);
    const metrics = createRegistry(`writer-${cfg.BROKER}`);
    const server = await startWriterServer({
      metrics,
      domain,
      publisher,
      host: cfg.GRPC_HOST,
      port: cfg.GRPC_PORT,
      log,
      idleCloseMs: cfg.PUBLISH_TIMEOUT_MS + 1000,
      maxConnectionAgeMs: cfg.GRPC_MAX_CONNECTION_AGE_MS,
      maxConnectionAgeGraceMs: cfg.GRPC_MAX_CONNECTION_AGE_GRACE_MS,
    });
    const http = await startHealthServer(cfg.GRPC_HOST, cfg.METRICS_PORT, () => publisher.ready(), metrics);
    return {
      async stop() {
        await server.stop();
        await closeServer(http);
        log.info('gRPC server stopped; closing the broker connection');
        await publisher.close();
      },
    };
  },
});
