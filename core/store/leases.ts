// Worker leases: a key each live worker renews; gone soon after it dies, so
// the state locks it held can be recognised as stale.
import type { StoreContext } from './context.ts';

export class Leases {
  readonly #c: StoreContext;

  constructor(context: StoreContext) {
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
