// `npm run worker`: one worker process.
import { type Config, ConfigError, loadConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { startOrExit } from '../core/process.ts';
import { startWorker } from './worker.ts';

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`tfcompute worker: ${error.message}\n`);
  process.exit(2);
}
const logger = createLogger(config.logLevel, 'worker');
await startOrExit(logger, async () => {
  const worker = await startWorker(config, logger);
  return () => worker.stop();
});
