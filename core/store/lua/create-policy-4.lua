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
    ARGV[2] the arguments (JSON):
      member   index member of the policy
      project  the project, or '*'
      limit    the most policies a project (or every project) may have
      fields   its record: field, value, field, value, ...
      audit    the audit note (see includes/audit.lua), or none

  Output:
    {'created'}
    {'no-project'}   the project does not exist
    {'limit'}        the project has `limit` policies
]]
local policyKey = KEYS[1]
local args = cjson.decode(ARGV[2])
local member, project = args.member, args.project

--- @include "audit"

-- The default project always exists, with or without its record.
if project ~= '*' and project ~= 'default' and redis.call('EXISTS', KEYS[4]) == 0 then return {'no-project'} end
if redis.call('ZCARD', KEYS[3]) >= args.limit then return {'limit'} end
redis.call('HSET', policyKey, 'project', project, unpack(args.fields))
redis.call('ZADD', KEYS[2], 0, member)
redis.call('ZADD', KEYS[3], 0, member)
appendAudit(ARGV[1], args.audit, project, 'policy', redis.call('HGET', policyKey, 'id'))
return {'created'}
