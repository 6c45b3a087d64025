// Worker leases: a key each live worker renews; gone soon after it dies, so
// the state locks it held can be recognised as stale.
import type { ContextOf } from './context.ts';

export class Leases {
  readonly #c: ContextOf<'redis' | 'keys'>;

  constructor(context: ContextOf<'redis' | 'keys'>) {
    this.#c = context;
  }

  async renew(workerId: string, leaseMs: number): Promise<void> {
    await this.#c.redis.set(this.#c.keys.worker(workerId), '1', 'PX', leaseMs);
  }

  async end(workerId: string): Promise<void> {
    await this.#c.redis.del(this.#c.keys.worker(workerId));
  }

  async isAlive(workerId: string): Promise<boolean> {
    return (await this.#c.redis.exists(this.#c.keys.worker(workerId))) === 1;
  }
}
