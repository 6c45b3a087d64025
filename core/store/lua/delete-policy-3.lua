--[[
  Deletes a policy and its index entries; jobs already evaluated keep their
  results.

  Input:
    KEYS[1] policy key
    KEYS[2] index of every policy
    KEYS[3] index of the policy's project's policies

    ARGV[1] key prefix
    ARGV[2] index member of the policy
    ARGV[3] the audit note (JSON, see includes/audit.lua), or ''

  Output:
    {'deleted'}
    {'missing'}
]]
local policyKey = KEYS[1]

--- @include "audit"

local policy = redis.call('HMGET', policyKey, 'project', 'id')
if not policy[2] then return {'missing'} end
redis.call('DEL', policyKey)
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
appendAudit(ARGV[1], ARGV[3], policy[1], 'policy', policy[2])
return {'deleted'}
