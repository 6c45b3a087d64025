--[[
  Records a new resource and its create job, unless the Idempotency-Key was
  used before (the resource it made is named instead, if it still exists),
  the project does not exist, the project is at its quota of live stacks, or
  the owner already has its cap of live resources.

  Input:
    KEYS[1] resource key
    KEYS[2] job key
    KEYS[3] the resource's queue of unfinished jobs
    KEYS[4] index of every resource
    KEYS[5] index of resources in status "creating"
    KEYS[6] the owner's live resources
    KEYS[7] the Idempotency-Key's record (unused when ARGV[10] is empty)

    ARGV[1]  key prefix
    ARGV[2]  resource id
    ARGV[3]  job id
    ARGV[4]  now (ISO 8601)
    ARGV[5]  index member
    ARGV[6]  inputs (JSON)
    ARGV[7]  max attempts
    ARGV[8]  owner (token name)
    ARGV[9]  the owner's cap of live resources
    ARGV[10] request fingerprint, or '' without an Idempotency-Key
    ARGV[11] seconds the Idempotency-Key is kept
    ARGV[12] expires at (ISO 8601), or ''
    ARGV[13] template name
    ARGV[14] template version
    ARGV[15] names of the inputs the caller set (JSON array)
    ARGV[16] the sensitive inputs, encrypted, or ''
    ARGV[17] project
    ARGV[18] created by (the principal's name; ARGV[8] is the key it is counted under)
    ARGV[19] the audit note (JSON, see includes/audit.lua), or ''
    ARGV[20] the S3 backend's workspace_key_prefix of the stack's own (see stackStatePrefix in core/ids.ts)

  Output:
    {'created', resourceId}
    {'replay', resourceId, fingerprint}   the key made this resource before
    {'cap', live}                         the owner is at its cap
    {'no-project'}                        the project does not exist
    {'quota', max}                        the project has max live stacks, its quota
]]
local resourceKey = KEYS[1]
local jobKey = KEYS[2]
local opsKey = KEYS[3]
local indexKey = KEYS[4]
local creatingKey = KEYS[5]
local ownerLiveKey = KEYS[6]
local idempotencyKey = KEYS[7]

local prefix = ARGV[1]
local resourceId = ARGV[2]
local jobId = ARGV[3]
local now = ARGV[4]
local member = ARGV[5]
local inputs = ARGV[6]
local maxAttempts = ARGV[7]
local owner = ARGV[8]
local cap = tonumber(ARGV[9])
local fingerprint = ARGV[10]
local idempotencySeconds = ARGV[11]
local expiresAt = ARGV[12]
local template = ARGV[13]
local templateVersion = ARGV[14]
local setInputs = ARGV[15]
local secrets = ARGV[16]
local project = ARGV[17]
local createdBy = ARGV[18]
local statePrefix = ARGV[20]

--- @include "keys"
--- @include "idempotency"
--- @include "new-job"
--- @include "events"
--- @include "drift"
--- @include "audit"

if fingerprint ~= '' then
  local previous = redis.call('GET', idempotencyKey)
  if previous then
    local previousId, previousFingerprint = splitIdempotencyValue(previous)
    if redis.call('EXISTS', resourceKeyOf(prefix, previousId)) == 1 then
      return {'replay', previousId, previousFingerprint}
    end
  end
end
local projectKey = projectKeyOf(prefix, project)
-- The default project always exists, its record or not.
if project ~= 'default' and redis.call('EXISTS', projectKey) == 0 then return {'no-project'} end
local quota = tonumber(redis.call('HGET', projectKey, 'max_stacks'))
if quota and redis.call('SCARD', projectLiveKeyOf(prefix, project)) >= quota then return {'quota', tostring(quota)} end
local live = redis.call('SCARD', ownerLiveKey)
if live >= cap then return {'cap', tostring(live)} end

redis.call('HSET', resourceKey, 'id', resourceId, 'status', 'creating', 'inputs', inputs, 'outputs', '{}', 'error', '',
  'created_at', now, 'updated_at', now, 'job_id', jobId, 'job_action', 'create', 'job_status', 'queued',
  'member', member, 'created_by', createdBy, 'owner', owner, 'expires_at', expiresAt,
  'template', template, 'template_version', templateVersion, 'set_inputs', setInputs, 'secrets', secrets, 'project', project,
  'state_prefix', statePrefix)
recordNewJob(prefix, resourceKey, jobKey, jobId, resourceId, 'create', template, templateVersion, maxAttempts, now, tonumber(string.sub(member, 1, 15)), createdBy)
stackEvent(prefix, resourceKey, now)
redis.call('RPUSH', opsKey, jobId)
redis.call('ZADD', indexKey, 0, member)
redis.call('ZADD', creatingKey, 0, member)
for _, scope in ipairs(listScopesOf(project)) do
  redis.call('ZADD', templateIndexKeyOf(prefix, template, scope), 0, member)
  redis.call('ZADD', templateStatusKeyOf(prefix, template, 'creating', scope), 0, member)
end
enterDriftIndexes(prefix, resourceKey, 'creating')
redis.call('SADD', ownerLiveKey, resourceId)
redis.call('SADD', projectLiveKeyOf(prefix, project), resourceId)
if fingerprint ~= '' then
  redis.call('SET', idempotencyKey, resourceId .. ' ' .. fingerprint, 'EX', idempotencySeconds)
  -- Named in the record, which is all that is left to find it by once the stack is forgotten.
  redis.call('HSET', resourceKey, 'idempotency_key', idempotencyKey)
end
appendAudit(prefix, ARGV[19], project, 'stack', resourceId)
return {'created', resourceId}
