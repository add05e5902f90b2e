import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createFirstAdmin } from './http/platform-api/auth-routes.ts';
import { createLogger } from './logger.ts';
import { createServices } from './services.ts';

/** Composition root: config → services → HTTP; listens and shuts down cleanly. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const services = await createServices(config, log);
  log.info({ storage: services.db.description, bus: config.redisUrl ? 'redis' : 'memory' }, 'storage ready');
  if (config.admin) {
    const { created } = await createFirstAdmin(services, config.admin);
    if (created) log.info({ email: config.admin.email }, 'created the first admin from PINWHEEL_ADMIN_EMAIL');
  } else if ((await services.users.count()) === 0) {
    log.info('no user yet: POST /api/v1/setup {email, password, organization} creates the first admin');
  }
  const app = await buildApp(services);
  await app.listen({ port: config.port, host: config.host });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    try {
      await app.close();
      await services.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
