--[[
  Overrides the soft-mandatory policies that stopped a job: the job is
  queued again, to apply exactly the plan they were evaluated on, and the
  stack goes back to the status of its job in progress.

  Input:
    KEYS[1] resource key
    KEYS[2] job key
    KEYS[3] the resource's queue of unfinished jobs

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] now (ISO 8601)
    ARGV[4] who overrode it (the principal's name)
    ARGV[5] the reason given
    ARGV[6] the audit note (JSON, see includes/audit.lua), or ''

  Output:
    {'missing'}
    {'conflict', status}
    {'overridden'}
]]
local resourceKey = KEYS[1]
local jobKey = KEYS[2]

local prefix = ARGV[1]
local jobId = ARGV[2]
local now = ARGV[3]

--- @include "move-status"
--- @include "audit"

local IN_PROGRESS = {create = 'creating', update = 'updating', delete = 'deleting'}

local job = redis.call('HMGET', jobKey, 'status', 'action', 'policy')
if not job[1] then return {'missing'} end
if job[1] ~= 'policy_failed' then return {'conflict', job[1]} end
-- An overridden delete that then fails is a failed delete (delete_failed),
-- as any other is: where a discard would have left the stack no longer counts.
if job[2] == 'delete' then redis.call('HDEL', jobKey, 'previous_status') end
local policy = cjson.decode(job[3])
policy.status = 'overridden'
policy.override = {by = ARGV[4], reason = ARGV[5], at = now}
setJobStatus(prefix, resourceKey, jobKey, 'queued', now, 'approved', '1', 'approved_by', ARGV[4], 'approved_at', now,
  'policy', cjson.encode(policy))
if redis.call('HGET', resourceKey, 'job_id') == jobId then
  setResourceStatus(prefix, resourceKey, IN_PROGRESS[job[2]] or 'updating', now, 'job_status', 'queued')
end
auditJob(prefix, ARGV[6], resourceKey, jobId)
return {'overridden'}
