--[[
  Stores a new webhook unless the installation, or its project, already has
  its cap of them, or its project does not exist. The counts and the write
  are one step, so two registrations racing for the last place cannot both
  take it. An every-project webhook (project '*') counts against the
  installation's cap only.

  Input:
    KEYS[1] webhook key
    KEYS[2] index of every webhook
    KEYS[3] index of the project's webhooks (unused for '*')
    KEYS[4] the project's key (unused for '*')

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      limit         the cap on webhooks
      projectLimit  the cap on one project's webhooks
      member        index member of the webhook
      project       the project, or '*'
      fields        its record: field, value, field, value, ...
      audit         the audit note (see includes/audit.lua), or none

  Output:
    {'created'}
    {'limit', count}           the installation has `count` webhooks, its cap or more
    {'project-limit', count}   the project has `count` webhooks, its cap or more
    {'no-project'}             the project does not exist
]]
local webhookKey, indexKey, projectIndexKey, projectKey = unpack(KEYS)

local args = cjson.decode(ARGV[2])
local limit, projectLimit, member = args.limit, args.projectLimit, args.member
local project = args.project

--- @include "audit"

local count = redis.call('ZCARD', indexKey)
if count >= limit then return {'limit', tostring(count)} end
if project ~= '*' then
  -- The default project always exists, with or without its record.
  if project ~= 'default' and redis.call('EXISTS', projectKey) == 0 then return {'no-project'} end
  local inProject = redis.call('ZCARD', projectIndexKey)
  if inProject >= projectLimit then return {'project-limit', tostring(inProject)} end
  redis.call('ZADD', projectIndexKey, 0, member)
end
redis.call('HSET', webhookKey, 'project', project, unpack(args.fields))
redis.call('ZADD', indexKey, 0, member)
appendAudit(ARGV[1], args.audit, project, 'webhook', redis.call('HGET', webhookKey, 'id'))
return {'created'}
