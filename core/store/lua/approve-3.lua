--[[
  Approves a planned update: the job is queued again, to apply the saved plan.

  Input:
    KEYS[1] resource key
    KEYS[2] job key
    KEYS[3] the resource's queue of unfinished jobs

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] now (ISO 8601)
    ARGV[4] who approved it (the principal's name)
    ARGV[5] the audit note (JSON, see includes/audit.lua), or ''

  Output:
    {'missing'}
    {'conflict', status}
    {'approved'}
]]
local resourceKey = KEYS[1]
local jobKey = KEYS[2]

local prefix = ARGV[1]
local jobId = ARGV[2]
local now = ARGV[3]
local approvedBy = ARGV[4]

--- @include "events"
--- @include "audit"

local status = redis.call('HGET', jobKey, 'status')
if not status then return {'missing'} end
if status ~= 'planned' then return {'conflict', status} end
setJobStatus(prefix, resourceKey, jobKey, 'queued', now, 'approved', '1', 'approved_by', approvedBy, 'approved_at', now)
if redis.call('HGET', resourceKey, 'job_id') == jobId then
  redis.call('HSET', resourceKey, 'job_status', 'queued', 'updated_at', now)
end
auditJob(prefix, ARGV[5], resourceKey, jobId)
return {'approved'}
