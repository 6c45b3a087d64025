// `npm run api`: the HTTP API.
import { apiAccess } from '../core/access/api-access.ts';
import { type Config, ConfigError, loadConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { startOrExit } from '../core/process.ts';
import { startApi } from './server.ts';

let config: Config;
try {
  config = loadConfig();
  apiAccess(config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`tfcompute api: ${error.message}\n`);
  process.exit(2);
}
const logger = createLogger(config.logLevel, 'api');
await startOrExit(logger, async () => {
  const api = await startApi(config, logger);
  return () => api.stop();
});
