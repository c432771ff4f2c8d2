import { domainFromEnv } from '@tweets/domain';
import { closeAfterDrain } from '@tweets/http';
import { createRegistry, runService } from '@tweets/runtime';
import { contract } from '@tweets/wire';
import { buildDispatcher } from './app.js';
import { linkOptions, readConfig, routeOf, writerAddr } from './config.js';
import { grpcWriterLink } from './writers.js';

// The domain this process serves (DOMAIN: weather, the default, or blackfriday); an unknown name stops it here.
const domain = domainFromEnv();

await runService({
  name: 'dispatcher',
  async start(log) {
    const cfg = readConfig();
    const c = contract(domain);
    const routes = routeOf(domain, cfg.ROUTE);
    const writers = Object.fromEntries(routes.map((p) => [p, grpcWriterLink(c, writerAddr(cfg, p), linkOptions(cfg))]));
    const { app, answered, drain } = buildDispatcher({
      cfg,
      domain,
      codec: c.codec,
      routes,
      writers,
      log,
      metrics: createRegistry('dispatcher'),
    });
    await app.listen({ host: cfg.HOST, port: cfg.PORT });
    log.info({ routes, port: cfg.PORT, mode: cfg.DISPATCH_MODE }, 'dispatcher listening');
    const statsTimer = setInterval(() => {
      const byPath = Object.fromEntries(routes.map((path) => [path, answered[path]!.take()]));
      if (Object.values(byPath).some(Boolean)) log.info({ writerAnswer: byPath }, 'dispatched in the last 10 s');
    }, 10_000);
    statsTimer.unref();
    return {
      async stop() {
        clearInterval(statsTimer);
        await closeAfterDrain(app, cfg.DRAIN_DELAY_MS);
        await drain();
        for (const w of Object.values(writers)) w.close();
      },
    };
  },
});
