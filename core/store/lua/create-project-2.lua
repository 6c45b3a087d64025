--[[
  Records a new project, unless one of that name exists.

  Input:
    KEYS[1] the project's key
    KEYS[2] index of every project

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      name            name
      description     description
      maxStacks       max live stacks, or none
      maxRunningJobs  max running jobs, or none
      now             now (ISO 8601)
      audit           the audit note (see includes/audit.lua), or none

  Output:
    {'created'}
    {'exists'}
]]
local projectKey, indexKey = unpack(KEYS)
local args = cjson.decode(ARGV[2])
local name = args.name

--- @include "audit"

if redis.call('EXISTS', projectKey) == 1 then return {'exists'} end
redis.call('HSET', projectKey, 'name', name, 'description', args.description, 'created_at', args.now,
  'updated_at', args.now)
if args.maxStacks then redis.call('HSET', projectKey, 'max_stacks', args.maxStacks) end
if args.maxRunningJobs then redis.call('HSET', projectKey, 'max_running_jobs', args.maxRunningJobs) end
redis.call('ZADD', indexKey, 0, name)
appendAudit(ARGV[1], args.audit, name, 'project', name)
return {'created'}
