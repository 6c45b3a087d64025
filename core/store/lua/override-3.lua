--[[
  Overrides the soft-mandatory policies that stopped a job: the job is
  queued again, to apply exactly the plan they were evaluated on, and the
  stack goes back to the status of its job in progress.

  Input: the keys and arguments of includes/job-script.lua;
    ARGV[2] holds:
      jobId   job id
      now     now (ISO 8601)
      by      who overrode it (the principal's name)
      reason  the reason given
      audit   the audit note (see includes/audit.lua), or none

  Output:
    {'missing'}
    {'conflict', status}
    {'overridden'}
]]
--- @include "job-script"

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
policy.override = {by = args.by, reason = args.reason, at = now}
setJobStatus(prefix, stackKey, jobKey, 'queued', now, 'approved', '1', 'approved_by', args.by, 'approved_at', now,
  'policy', cjson.encode(policy))
if redis.call('HGET', stackKey, 'job_id') == jobId then
  setStackStatus(prefix, stackKey, IN_PROGRESS[job[2]] or 'updating', now, 'job_status', 'queued')
end
auditJob(prefix, args.audit, stackKey, jobId)
return {'overridden'}
