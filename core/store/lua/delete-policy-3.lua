--[[
  Deletes a policy and its index entries; jobs already evaluated keep their
  results.

  Input:
    KEYS[1] policy key
    KEYS[2] index of every policy
    KEYS[3] index of the policy's project's policies

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      member  index member of the policy
      audit   the audit note (see includes/audit.lua), or none

  Output:
    {'deleted'}
    {'missing'}
]]
local policyKey = KEYS[1]
local args = cjson.decode(ARGV[2])

--- @include "audit"

local policy = redis.call('HMGET', policyKey, 'project', 'id')
if not policy[2] then return {'missing'} end
redis.call('DEL', policyKey)
redis.call('ZREM', KEYS[2], args.member)
redis.call('ZREM', KEYS[3], args.member)
appendAudit(ARGV[1], args.audit, policy[1], 'policy', policy[2])
return {'deleted'}
