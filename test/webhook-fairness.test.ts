// One client must not starve the rest of the webhooks: a cap on how many
// there are, a share of the delivery slots per webhook, and a circuit
// breaker that stops sending to a receiver that fails every attempt.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertProblem, useSystems } from './support/harness.ts';
import { EVENTS_ENV } from './support/receiver.ts';

const [startSystem] = useSystems();

describe('the cap on webhooks', () => {
  test('beyond WEBHOOK_LIMIT a registration is 409 webhook-limit-reached and stores nothing; ten racing for the last place, one wins', async () => {
    const system = await startSystem({ env: { ...EVENTS_ENV, WEBHOOK_LIMIT: '3' } });
    const register = () => system.http().post('/api/webhooks').send({ url: 'http://127.0.0.1:9/hook' });
    for (let i = 0; i < 2; i += 1) assert.equal((await register()).status, 201);
    const racing = await Promise.all(Array.from({ length: 10 }, register));
    assert.deepEqual(racing.map((res) => res.status).sort(), [201, ...Array<number>(9).fill(409)], 'exactly one took the last place');
    for (const refused of racing.filter((res) => res.status === 409)) {
      assertProblem(refused, 409, 'webhook-limit-reached');
      assert.match(refused.body.detail, /WEBHOOK_LIMIT=3/);
    }
    assert.equal((await system.http().get('/api/webhooks?limit=100')).body.items.length, 3);
    const stored = await system.redis.keys(`${system.config.redisPrefix}:wh:*`);
    assert.equal(stored.filter((key) => /:wh:w[0-9a-z]{15}$/.test(key)).length, 3, 'no webhook record beyond the three');
    const deleted = (await system.http().get('/api/webhooks')).body.items[0].id;
    assert.equal((await system.http().delete(`/api/webhooks/${deleted}`)).status, 204);
    assert.equal((await register()).status, 201, 'a deleted webhook frees its place');
  });
});
