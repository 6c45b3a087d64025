--[[
  Changes fields of a policy that exists (one deleted meanwhile is not made
  again, half).

  Input:
    KEYS[1] policy key

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      fields  the changes: field, value, field, value, ...
      audit   the audit note (see includes/audit.lua), or none

  Output:
    {'updated'}
    {'missing'}
]]
local policyKey = KEYS[1]
local args = cjson.decode(ARGV[2])

--- @include "audit"

if redis.call('EXISTS', policyKey) == 0 then return {'missing'} end
redis.call('HSET', policyKey, unpack(args.fields))
local policy = redis.call('HMGET', policyKey, 'project', 'id')
appendAudit(ARGV[1], args.audit, policy[1], 'policy', policy[2])
return {'updated'}
