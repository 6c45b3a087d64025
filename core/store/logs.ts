// A job's Terraform output: appended by its worker, read whole or in byte
// ranges by the API, with a notice on every write for live readers.
import type { ContextOf } from './context.ts';

export const MAX_LOG_BYTES = 2 * 1024 * 1024;

export class Logs {
  readonly #c: ContextOf<'redis' | 'keys'>;

  constructor(context: ContextOf<'redis' | 'keys'>) {
    this.#c = context;
  }

  // Appends and tells live log readers; returns the log's length in bytes.
  async append(jobId: string, text: string): Promise<number> {
    const { redis, keys } = this.#c;
    const replies = await redis.multi().append(keys.log(jobId), text).publish(keys.logsChannel, jobId).exec();
    const [error, length] = replies?.[0] ?? [new Error('no reply to APPEND')];
    if (error) throw error;
    return Number(length);
  }

  async get(jobId: string): Promise<string> {
    return (await this.#c.redis.get(this.#c.keys.log(jobId))) ?? '';
  }

  // Up to `length` bytes of the log from byte `offset` on.
  async range(jobId: string, offset: number, length: number): Promise<Buffer> {
    return this.#c.redis.getrangeBuffer(this.#c.keys.log(jobId), offset, offset + length - 1);
  }
}
