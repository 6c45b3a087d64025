--[[
  Approves a planned update: the job is queued again, to apply the saved plan.

  Input: the keys and arguments of includes/job-script.lua;
    ARGV[2] holds:
      jobId       job id
      now         now (ISO 8601)
      approvedBy  who approved it (the principal's name)
      audit       the audit note (see includes/audit.lua), or none

  Output:
    {'missing'}
    {'conflict', status}
    {'approved'}
]]
--- @include "job-script"
local approvedBy = args.approvedBy

--- @include "events"
--- @include "audit"

local status = redis.call('HGET', jobKey, 'status')
if not status then return {'missing'} end
if status ~= 'planned' then return {'conflict', status} end
setJobStatus(prefix, stackKey, jobKey, 'queued', now, 'approved', '1', 'approved_by', approvedBy, 'approved_at', now)
if redis.call('HGET', stackKey, 'job_id') == jobId then
  redis.call('HSET', stackKey, 'job_status', 'queued', 'updated_at', now)
end
auditJob(prefix, args.audit, stackKey, jobId)
return {'approved'}
