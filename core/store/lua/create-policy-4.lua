--[[
  Stores a new policy unless its project does not exist (checked in the same
  step, so a project deleted meanwhile gets none) or already has as many
  policies as allowed. An every-project policy
  (project '*') goes in the every-project index.

  Input:
    KEYS[1] policy key
    KEYS[2] index of every policy
    KEYS[3] index of the project's policies ('*': the every-project ones)
    KEYS[4] the project's key (unused for '*')

    ARGV[1] key prefix
    ARGV[2] index member of the policy
    ARGV[3] the project, or '*'
    ARGV[4] the audit note (JSON, see includes/audit.lua), or ''
    ARGV[5] the most policies a project (or every project) may have
    ARGV[6..] field, value, field, value, ...

  Output:
    {'created'}
    {'no-project'}   the project does not exist
    {'limit'}        the project has ARGV[5] policies
]]
local policyKey = KEYS[1]
local member = ARGV[2]
local project = ARGV[3]

--- @include "audit"

-- The default project always exists, with or without its record.
if project ~= '*' and project ~= 'default' and redis.call('EXISTS', KEYS[4]) == 0 then return {'no-project'} end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then return {'limit'} end
redis.call('HSET', policyKey, 'project', project, unpack(ARGV, 6))
redis.call('ZADD', KEYS[2], 0, member)
redis.call('ZADD', KEYS[3], 0, member)
appendAudit(ARGV[1], ARGV[4], project, 'policy', redis.call('HGET', policyKey, 'id'))
return {'created'}
