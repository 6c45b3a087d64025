--[[
  Changes fields of a policy that exists (one deleted meanwhile is not made
  again, half).

  Input:
    KEYS[1] policy key

    ARGV[1] key prefix
    ARGV[2] the audit note (JSON, see includes/audit.lua), or ''
    ARGV[3..] field, value, field, value, ...

  Output:
    {'updated'}
    {'missing'}
]]
local policyKey = KEYS[1]

--- @include "audit"

if redis.call('EXISTS', policyKey) == 0 then return {'missing'} end
redis.call('HSET', policyKey, unpack(ARGV, 3))
local policy = redis.call('HMGET', policyKey, 'project', 'id')
appendAudit(ARGV[1], ARGV[2], policy[1], 'policy', policy[2])
return {'updated'}
