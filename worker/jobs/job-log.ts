// Buffers a job's log text and progress and writes them to Redis a few times
// a second rather than once per Terraform line.
import { MAX_LOG_BYTES, type Store } from '../../core/store/index.ts';
import type { JobProgress } from '../../core/schemas/index.ts';

const FLUSH_INTERVAL_MS = 250;

export class JobLog {
  readonly #store: Store;
  readonly #jobId: string;
  #pending = '';
  #progress: JobProgress | undefined;
  #bytes = 0;
  #truncated = false;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(store: Store, jobId: string) {
    this.#store = store;
    this.#jobId = jobId;
  }

  write(text: string): void {
    if (this.#truncated) return;
    this.#pending += text.endsWith('\n') ? text : `${text}\n`;
    this.#schedule();
  }

  progress(progress: JobProgress): void {
    if (this.#truncated) return;
    this.#progress = progress;
    this.#schedule();
  }

  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing = this.#flushing.then(() => this.#write());
    await this.#flushing;
  }

  // Drops what is not written yet, and everything written from now on: the
  // attempt was fenced, and another may be writing the job's log by now.
  discard(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = '';
    this.#progress = undefined;
    this.#truncated = true;
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#flushing = this.#flushing.then(() => this.#write()).catch(() => undefined);
    }, FLUSH_INTERVAL_MS);
  }

  async #write(): Promise<void> {
    let text = this.#pending;
    const progress = this.#progress;
    this.#pending = '';
    this.#progress = undefined;
    if (text) {
      if (this.#bytes + Buffer.byteLength(text) > MAX_LOG_BYTES) {
        text =
          `${text.slice(0, Math.max(0, MAX_LOG_BYTES - this.#bytes))}` +
          `\n[log truncated at ${MAX_LOG_BYTES} bytes]\n`;
        this.#truncated = true;
      }
      this.#bytes = await this.#store.logs.append(this.#jobId, text);
    }
    if (progress) await this.#store.jobs.setProgress(this.#jobId, progress);
  }
}
