// What the lifecycle's steps need: the store, the queue, a logger, the
// templates served, the box sensitive inputs are sealed in, and the job
// settings every new job gets.
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { JobQueue } from '../queue.ts';
import type { TemplateRef } from '../schemas/index.ts';
import type { SecretBox } from '../secret-box.ts';
import type { Store } from '../store/index.ts';
import type { Catalogue, Template } from '../templates/index.ts';

export type LifecycleDeps = {
  store: Store;
  queue: JobQueue;
  logger: Logger;
  catalogue: Catalogue;
  secrets: SecretBox | undefined;
  jobs: { attempts: number; backoffMs: number };
};

// The template a new job of a stack runs: the one served now.
export function servedTemplate(deps: LifecycleDeps, name: string): Template {
  const template = deps.catalogue.get(name);
  if (!template) {
    throw new AppError(
      'template-not-served',
      `template "${name}" is not served by this installation any more; restore its directory under ` +
        'TEMPLATES_DIR to change or delete its stacks',
    );
  }
  return template;
}

export function refOf(template: Template): TemplateRef {
  return { name: template.name, version: template.version };
}
