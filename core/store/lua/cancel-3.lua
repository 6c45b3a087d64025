--[[
  Cancels a job. A queued job is finished as cancelled here and then; if it
  was its stack's current job, the stack becomes failed (create) or
  delete_failed (delete), the states a later DELETE cleans up, or what it was
  before (an update, which has applied nothing yet). A running job is only
  flagged: its worker must interrupt Terraform.

  Input: the keys and arguments of includes/job-script.lua;
    ARGV[2] holds:
      jobId             job id
      now               now (ISO 8601)
      nowMs             now (ms)
      error             the job's error (JSON)
      retentionSeconds  seconds a finished job is kept
      audit             the audit note (see includes/audit.lua), or none

  Output:
    {'missing'}
    {'signalled'}             running; the worker must stop it
    {'finished', status}      it had already finished
    {'cancelled', nextJobId}  nextJobId is '' when no job waits behind it
]]
--- @include "job-script"
local jobError = args.error
local retentionSeconds, nowMs = args.retentionSeconds, args.nowMs

--- @include "move-status"
--- @include "observe-duration"
--- @include "audit"
--- @include "history"

local job = redis.call('HMGET', jobKey, 'status', 'action')
local jobStatus, action = job[1], job[2]
if not jobStatus then return {'missing'} end
if jobStatus == 'running' then
  redis.call('HSET', jobKey, 'cancel_requested', '1')
  auditJob(prefix, args.audit, stackKey, jobId)
  return {'signalled'}
end
if jobStatus ~= 'queued' then return {'finished', jobStatus} end

setJobStatus(prefix, stackKey, jobKey, 'cancelled', now, 'finished_at', now, 'error', jobError)
redis.call('HDEL', jobKey, 'new_secrets')
redis.call('EXPIRE', jobKey, retentionSeconds)
observeDuration(prefix, jobKey, 'cancelled', nowMs)
redis.call('LREM', opsKey, 0, jobId)
settleHistory(prefix, redis.call('HGET', jobKey, 'resource_id'), opsKey, nowMs, retentionSeconds)
if redis.call('HGET', stackKey, 'job_id') == jobId then
  local to = 'failed'
  if action == 'delete' then to = 'delete_failed' end
  -- An update that has not run has applied nothing: the stack is as before it.
  if action == 'update' then to = redis.call('HGET', jobKey, 'previous_status') or 'ready' end
  setStackStatus(prefix, stackKey, to, now, 'job_status', 'cancelled', 'error', jobError)
end
auditJob(prefix, args.audit, stackKey, jobId)
return {'cancelled', redis.call('LINDEX', opsKey, 0) or ''}
