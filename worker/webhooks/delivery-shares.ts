// Each webhook's share of one worker's delivery slots: a receiver that is
// slow or hangs holds at most its share of them, and the other webhooks'
// deliveries go on in the rest. Counted in memory: the slots are this
// process's own, and a worker that dies takes its count with it.
export class DeliveryShares {
  readonly #perWebhook: number;
  readonly #inFlight = new Map<string, number>();

  constructor(perWebhook: number) {
    this.#perWebhook = perWebhook;
  }

  // A slot for one delivery to the webhook and the function that gives it
  // back; undefined while the webhook has its share in flight.
  take(webhookId: string): (() => void) | undefined {
    const held = this.#inFlight.get(webhookId) ?? 0;
    if (held >= this.#perWebhook) return undefined;
    this.#inFlight.set(webhookId, held + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.#inFlight.get(webhookId) ?? 1) - 1;
      if (left > 0) this.#inFlight.set(webhookId, left);
      else this.#inFlight.delete(webhookId);
    };
  }
}
