--[[
  Re-queues the create of a resource whose create failed, in the workspace
  that create left, with the template as served now: the resource takes that
  version, and the inputs it shows with that version's defaults. Any other
  status is returned as it is.

  Input:
    KEYS[1] resource key
    KEYS[2] the new create job's key
    KEYS[3] the resource's queue of unfinished jobs

    ARGV[1] key prefix
    ARGV[2] the new create job's id
    ARGV[3] now (ISO 8601)
    ARGV[4] max attempts
    ARGV[5] the version of the template the retry runs
    ARGV[6] the inputs the resource shows with that version (JSON)
    ARGV[7] the audit note (JSON, see includes/audit.lua), or ''
    ARGV[8] now (ms)

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
local inputs = ARGV[6]

--- @include "queue-job"
--- @include "audit"

local status = redis.call('HGET', resourceKey, 'status')
if not status then return {'missing'} end
if status ~= 'failed' then return {'conflict', status} end
redis.call('HSET', resourceKey, 'template_version', templateVersion, 'inputs', inputs)
queueJob(prefix, resourceKey, opsKey, jobKey, jobId, 'create', 'creating', templateVersion, maxAttempts, now, ARGV[8], auditActorOf(ARGV[7]))
-- The retry runs in the workspace the failed create made: no adoption check.
redis.call('HSET', jobKey, 'retry', '1')
auditStack(prefix, ARGV[7], resourceKey)
return {'created', jobId}
