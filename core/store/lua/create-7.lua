--[[
  Records a new stack and its create job, unless the Idempotency-Key was
  used before (the stack it made is named instead, if it still exists),
  the project does not exist, the project is at its quota of live stacks, or
  the owner already has its cap of live resources.

  Input:
    KEYS[1] stack key
    KEYS[2] job key
    KEYS[3] the stack's queue of unfinished jobs
    KEYS[4] index of every stack
    KEYS[5] index of resources in status "creating"
    KEYS[6] the owner's live resources
    KEYS[7] the Idempotency-Key's record (unused without a fingerprint)

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      stackId          the stack's id
      jobId               the create job's id
      now                 now (ISO 8601)
      member              its index member
      inputs              inputs (JSON)
      setInputs           names of the inputs the caller set (JSON array)
      secrets             the sensitive inputs, encrypted, or ''
      maxAttempts         max attempts
      owner               owner (the key its live stacks are counted under)
      cap                 the owner's cap of live resources
      createdBy           created by (the principal's name)
      fingerprint         request fingerprint, or '' without an Idempotency-Key
      idempotencySeconds  seconds the Idempotency-Key is kept
      expiresAt           expires at (ISO 8601), or ''
      template            template name
      templateVersion     template version
      project             project
      statePrefix         the S3 backend's workspace_key_prefix of the stack's own
                          (see stackStatePrefix in core/ids.ts)
      audit               the audit note (see includes/audit.lua), or none

  Output:
    {'created', stackId}
    {'replay', stackId, fingerprint}   the key made this stack before
    {'cap', live}                         the owner is at its cap
    {'no-project'}                        the project does not exist
    {'quota', max}                        the project has max live stacks, its quota
]]
local stackKey, jobKey, opsKey, indexKey, creatingKey, ownerLiveKey, idempotencyKey = unpack(KEYS)

local prefix, args = ARGV[1], cjson.decode(ARGV[2])
local stackId, jobId, now, member = args.stackId, args.jobId, args.now, args.member
local owner, fingerprint, template = args.owner, args.fingerprint, args.template
local templateVersion, project, createdBy = args.templateVersion, args.project, args.createdBy

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
    if redis.call('EXISTS', stackKeyOf(prefix, previousId)) == 1 then
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
if live >= args.cap then return {'cap', tostring(live)} end

redis.call('HSET', stackKey, 'id', stackId, 'status', 'creating', 'inputs', args.inputs, 'outputs', '{}',
  'error', '', 'created_at', now, 'updated_at', now, 'job_id', jobId, 'job_action', 'create', 'job_status', 'queued',
  'member', member, 'created_by', createdBy, 'owner', owner, 'expires_at', args.expiresAt,
  'template', template, 'template_version', templateVersion, 'set_inputs', args.setInputs, 'secrets', args.secrets,
  'project', project, 'state_prefix', args.statePrefix)
recordNewJob(prefix, stackKey, jobKey, {id = jobId, stackId = stackId, action = 'create', template = template,
  templateVersion = templateVersion, maxAttempts = args.maxAttempts, now = now,
  nowMs = tonumber(string.sub(member, 1, 15)), createdBy = createdBy})
stackEvent(prefix, stackKey, now)
redis.call('RPUSH', opsKey, jobId)
redis.call('ZADD', indexKey, 0, member)
redis.call('ZADD', creatingKey, 0, member)
for _, scope in ipairs(listScopesOf(project)) do
  redis.call('ZADD', templateIndexKeyOf(prefix, template, scope), 0, member)
  redis.call('ZADD', templateStatusKeyOf(prefix, template, 'creating', scope), 0, member)
end
enterDriftIndexes(prefix, stackKey, 'creating')
redis.call('SADD', ownerLiveKey, stackId)
redis.call('SADD', projectLiveKeyOf(prefix, project), stackId)
if fingerprint ~= '' then
  redis.call('SET', idempotencyKey, stackId .. ' ' .. fingerprint, 'EX', args.idempotencySeconds)
  -- Named in the record, which is all that is left to find it by once the stack is forgotten.
  redis.call('HSET', stackKey, 'idempotency_key', idempotencyKey)
end
appendAudit(prefix, args.audit, project, 'stack', stackId)
return {'created', stackId}
