// The key layout is spelled twice, in core/store/keys.ts and, for the keys a
// script can only name once it has read a record, in lua/includes/keys.lua:
// every Lua key function must give the key keys.ts gives for the same inputs.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Keys } from '../core/store/keys.ts';
import { useRedis } from './support/use-redis.ts';

// `{prefix}`: the cluster mode's hash tag, as the store is given it there.
const PREFIXES = ['tfcompute', '{tfc-a}'];

// Each Lua key function (prefix first), the arguments it is called with, and
// what keys.ts gives for them.
const CASES: ReadonlyArray<{ lua: string; args: string[]; ts: (keys: Keys) => string }> = [
  { lua: 'stackKeyOf', args: ['r1'], ts: (k) => k.stack('r1') },
  { lua: 'historyKeyOf', args: ['r1'], ts: (k) => k.history('r1') },
  { lua: 'statusKeyOf', args: ['ready'], ts: (k) => k.status('ready') },
  { lua: 'templateIndexKeyOf', args: ['web'], ts: (k) => k.templateIndex('web') },
  { lua: 'templateIndexKeyOf', args: ['web', ''], ts: (k) => k.templateIndex('web') },
  { lua: 'templateIndexKeyOf', args: ['web', 'pay'], ts: (k) => k.templateIndex('web', 'pay') },
  { lua: 'templateStatusKeyOf', args: ['web', 'failed'], ts: (k) => k.templateStatus('web', 'failed') },
  { lua: 'templateStatusKeyOf', args: ['web', 'failed', 'pay'], ts: (k) => k.templateStatus('web', 'failed', 'pay') },
  { lua: 'projectKeyOf', args: ['pay'], ts: (k) => k.project('pay') },
  { lua: 'projectRunningKeyOf', args: ['pay'], ts: (k) => k.projectRunning('pay') },
  { lua: 'projectWaitingKeyOf', args: ['pay'], ts: (k) => k.projectWaiting('pay') },
  { lua: 'projectLiveKeyOf', args: ['pay'], ts: (k) => k.projectLive('pay') },
  { lua: 'projectLiveKeyOf', args: [], ts: (k) => k.projectLive('default') },
  { lua: 'webhookKeyOf', args: ['w1'], ts: (k) => k.webhook('w1') },
  { lua: 'policyKeyOf', args: ['p1'], ts: (k) => k.policy('p1') },
  { lua: 'jobKeyOf', args: ['j1'], ts: (k) => k.job('j1') },
  { lua: 'logKeyOf', args: ['j1'], ts: (k) => k.log('j1') },
  { lua: 'ownerLiveKeyOf', args: ['ci'], ts: (k) => k.ownerLive('ci') },
  { lua: 'metricsKeyOf', args: [], ts: (k) => k.metrics },
  { lua: 'driftKeyOf', args: ['drifted'], ts: (k) => k.drift('drifted') },
  { lua: 'templateDriftKeyOf', args: ['web', 'unknown'], ts: (k) => k.templateDrift('web', 'unknown') },
  { lua: 'templateDriftKeyOf', args: ['web', 'in_sync', 'pay'], ts: (k) => k.templateDrift('web', 'in_sync', 'pay') },
  {
    lua: 'templateStatusDriftKeyOf',
    args: ['web', 'ready', 'drifted'],
    ts: (k) => k.templateStatusDrift('web', 'ready', 'drifted'),
  },
  {
    lua: 'templateStatusDriftKeyOf',
    args: ['web', 'ready', 'drifted', 'pay'],
    ts: (k) => k.templateStatusDrift('web', 'ready', 'drifted', 'pay'),
  },
  { lua: 'forgetKeyOf', args: [], ts: (k) => k.forget },
  { lua: 'outboxKeyOf', args: [], ts: (k) => k.outbox },
  { lua: 'tokenKeyOf', args: ['t1'], ts: (k) => k.token('t1') },
  { lua: 'tokenDigestKeyOf', args: ['ab12'], ts: (k) => k.tokenDigest('ab12') },
  { lua: 'auditKeyOf', args: [], ts: (k) => k.audit },
  { lua: 'projectAuditKeyOf', args: ['pay'], ts: (k) => k.projectAudit('pay') },
];

const connection = useRedis('keys');

test('every key function in keys.lua gives the key keys.ts gives for the same inputs', async () => {
  const lua = await readFile(new URL('../core/store/lua/includes/keys.lua', import.meta.url), 'utf8');
  const defined = [...lua.matchAll(/^local function (\w+KeyOf)\(/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(CASES.map((c) => c.lua))].sort(), defined.sort(), 'every Lua key function is checked');
  // Each call's arguments: ARGV[1] the prefix, then a JSON list (an empty string stays one).
  const calls = CASES.map((c, i) => `out[${i + 1}] = ${c.lua}(ARGV[1], unpack(cjson.decode(ARGV[${i + 2}])))`);
  const script = `${lua}\nlocal out = {}\n${calls.join('\n')}\nreturn out`;
  for (const prefix of PREFIXES) {
    const keys = new Keys(prefix);
    const fromLua = (await connection().redis.eval(
      script,
      0,
      prefix,
      ...CASES.map((c) => JSON.stringify(c.args)),
    )) as string[];
    assert.deepEqual(
      fromLua,
      CASES.map((c) => c.ts(keys)),
      prefix,
    );
  }
});
