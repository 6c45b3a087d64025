--[[
  Requests a stack's update: an `update` job, queued behind the stack's other
  jobs, that plans the new inputs and applies them (at once with auto-apply,
  after approval otherwise). The stack keeps its inputs until the update
  succeeds; the job holds the new ones until then. Only a `ready` or
  `update_failed` stack can be updated.

  Input:
    KEYS[1] resource key
    KEYS[2] the new update job's key
    KEYS[3] the resource's queue of unfinished jobs

    ARGV[1] key prefix
    ARGV[2] the new update job's id
    ARGV[3] now (ISO 8601)
    ARGV[4] max attempts
    ARGV[5] the version of the template the update runs
    ARGV[6] the inputs the stack will show (JSON)
    ARGV[7] the names of the inputs the caller set (JSON)
    ARGV[8] the sensitive inputs, sealed, or ''
    ARGV[9] '1' to apply without approval, '0'
    ARGV[10] the audit note (JSON, see includes/audit.lua), or ''
    ARGV[11] now (ms)

  Output:
    {'missing'}
    {'conflict', status}
    {'created', jobId}
]]
local resourceKey = KEYS[1]
local jobKey = KEYS[2]
local opsKey = KEYS[3]

local prefix = ARGV[1]
local jobId = ARGV[2]
local now = ARGV[3]
local maxAttempts = ARGV[4]
local templateVersion = ARGV[5]

--- @include "queue-job"
--- @include "audit"
--- @include "policy-wait"

local status = redis.call('HGET', resourceKey, 'status')
if not status then return {'missing'} end
if status ~= 'ready' and status ~= 'update_failed' then return {'conflict', status} end
local waiting = policyWait(resourceKey, status)
if waiting then return {'conflict', waiting} end
queueJob(prefix, resourceKey, opsKey, jobKey, jobId, 'update', 'updating', templateVersion, maxAttempts, now, ARGV[11], auditActorOf(ARGV[10]))
redis.call('HSET', jobKey, 'new_inputs', ARGV[6], 'new_set_inputs', ARGV[7], 'new_secrets', ARGV[8],
  'auto_apply', ARGV[9], 'previous_status', status)
auditStack(prefix, ARGV[10], resourceKey)
return {'created', jobId}
