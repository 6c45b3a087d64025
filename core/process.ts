// Process-level handlers, in one place for both entry points: stop cleanly on
// SIGTERM/SIGINT, and log then exit on anything that escaped.
import type { Logger } from './logger.ts';

export function runUntilSignalled(logger: Logger, stop: () => Promise<void>): void {
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection');
    process.exit(1);
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    process.exit(1);
  });
}

export async function startOrExit(logger: Logger, start: () => Promise<() => Promise<void>>): Promise<void> {
  try {
    const stop = await start();
    runUntilSignalled(logger, stop);
  } catch (error) {
    logger.fatal({ err: error }, error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
