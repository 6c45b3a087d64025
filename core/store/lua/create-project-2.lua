--[[
  Records a new project, unless one of that name exists.

  Input:
    KEYS[1] the project's key
    KEYS[2] index of every project

    ARGV[1] key prefix
    ARGV[2] name
    ARGV[3] description
    ARGV[4] max live stacks, or ''
    ARGV[5] max running jobs, or ''
    ARGV[6] now (ISO 8601)
    ARGV[7] the audit note (JSON, see includes/audit.lua), or ''

  Output:
    {'created'}
    {'exists'}
]]
local projectKey = KEYS[1]
local indexKey = KEYS[2]

--- @include "audit"

if redis.call('EXISTS', projectKey) == 1 then return {'exists'} end
redis.call('HSET', projectKey, 'name', ARGV[2], 'description', ARGV[3], 'created_at', ARGV[6], 'updated_at', ARGV[6])
if ARGV[4] ~= '' then redis.call('HSET', projectKey, 'max_stacks', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', projectKey, 'max_running_jobs', ARGV[5]) end
redis.call('ZADD', indexKey, 0, ARGV[2])
appendAudit(ARGV[1], ARGV[7], ARGV[2], 'project', ARGV[2])
return {'created'}
