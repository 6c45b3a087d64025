--[[
  Removes a project that holds no live stacks and no webhooks, and its
  policies with it (they guard nothing once it is gone, and a project made
  later under the name, perhaps for another team, must not inherit them).
  The default project is never removed.

  Input:
    KEYS[1] the project's key
    KEYS[2] index of every project
    KEYS[3] the project's live stacks
    KEYS[4] the project's webhooks
    KEYS[5] the project's policies
    KEYS[6] index of every policy

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      name   name
      audit  the audit note (see includes/audit.lua), or none

  Output:
    {'deleted'}
    {'missing'}
    {'not-empty', liveStacks, webhooks}
    {'default'}
]]
local projectKey, indexKey, liveKey, webhooksKey, policiesKey, policyIndexKey = unpack(KEYS)
local prefix, args = ARGV[1], cjson.decode(ARGV[2])
local name = args.name

--- @include "audit"

if name == 'default' then return {'default'} end
if redis.call('EXISTS', projectKey) == 0 then return {'missing'} end
local live = redis.call('SCARD', liveKey)
local webhooks = redis.call('ZCARD', webhooksKey)
if live > 0 or webhooks > 0 then return {'not-empty', tostring(live), tostring(webhooks)} end
redis.call('DEL', projectKey)
redis.call('ZREM', indexKey, name)
for _, member in ipairs(redis.call('ZRANGE', policiesKey, 0, -1)) do
  -- A member is "{created_ms}:{id}" (core/store/keys.ts, IndexMember).
  redis.call('DEL', policyKeyOf(prefix, string.match(member, ':(.*)$')))
  redis.call('ZREM', policyIndexKey, member)
end
redis.call('DEL', policiesKey)
-- Its log goes too (a project made later under the name must not read it);
-- the installation's stream keeps every entry, this one included.
redis.call('DEL', projectAuditKeyOf(prefix, name))
appendAudit(prefix, args.audit, '*', 'project', name)
return {'deleted'}
