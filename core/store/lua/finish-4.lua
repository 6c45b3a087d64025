--[[
  Records how a job ended. A succeeded update gives the stack the inputs
  and template version it applied; a failed one keeps them (sensitive ones
  sealed) for a retry. A job that found out whether the stack matches its
  configuration (a plan, or an apply) records that as its drift. The
  stack's status follows only its current job: a create that finishes
  after a DELETE was requested records its outputs but leaves "deleting". A finished job's record and log expire after
  the retention period, as a deleted stack's record does (retire-deleted).
  Finishing a job twice changes nothing.

  Input: the keys and arguments of includes/job-script.lua, and
    KEYS[4] the job's log
    ARGV[2] holds:
      jobId             job id
      now               now (ISO 8601)
      nowMs             now (ms)
      jobStatus         the job's status: succeeded, failed or cancelled
      stackStatus    the stack's status, if this is its current job
      outputs           the stack's outputs (JSON), or '' to keep them
      result            the job's result (JSON), or ''
      error             the job's error (JSON), or ''
      retentionSeconds  seconds a finished job is kept
      plan              the job's plan (JSON), or ''
      drift             the stack's drift found by the job: in_sync, drifted, or '' (none found)
      driftResources    the changes behind it (JSON array of {address, action})

  Output:
    {'finished', nextJobId}          nextJobId is '' when no job waits
    {'already-finished', nextJobId}
]]
--- @include "job-script"
local logKey = KEYS[4]
local jobStatus, stackStatus, outputs = args.jobStatus, args.stackStatus, args.outputs
local jobError = args.error
local retentionSeconds, nowMs, plan = args.retentionSeconds, args.nowMs, args.plan
local drift = args.drift

--- @include "move-status"
--- @include "observe-duration"
--- @include "drift"
--- @include "retire-deleted"
--- @include "history"

local previous = redis.call('HGET', jobKey, 'status')
if previous == 'succeeded' or previous == 'failed' or previous == 'cancelled' or previous == 'discarded' then
  return {'already-finished', redis.call('LINDEX', opsKey, 0) or ''}
end
setJobStatus(prefix, stackKey, jobKey, jobStatus, now, 'finished_at', now, 'result', args.result, 'error', jobError)
if plan ~= '' then redis.call('HSET', jobKey, 'plan', plan) end
observeDuration(prefix, jobKey, jobStatus, nowMs)
redis.call('EXPIRE', jobKey, retentionSeconds)
redis.call('EXPIRE', logKey, retentionSeconds)
redis.call('LREM', opsKey, 0, jobId)
settleHistory(prefix, redis.call('HGET', jobKey, 'resource_id'), opsKey, nowMs, retentionSeconds)
if outputs ~= '' then redis.call('HSET', stackKey, 'outputs', outputs) end
if redis.call('HGET', jobKey, 'action') == 'update' then
  if jobStatus == 'succeeded' then
    local new = redis.call('HMGET', jobKey, 'new_inputs', 'new_set_inputs', 'new_secrets', 'template_version')
    redis.call('HSET', stackKey, 'inputs', new[1], 'set_inputs', new[2], 'secrets', new[3],
      'template_version', new[4])
    redis.call('HDEL', jobKey, 'new_secrets')
  elseif redis.call('HGET', stackKey, 'job_id') ~= jobId then
    -- A delete was asked for behind it: this update can never be retried.
    redis.call('HDEL', jobKey, 'new_secrets')
  end
end
if drift ~= '' and redis.call('HGET', stackKey, 'status') ~= 'deleted' then
  recordDrift(prefix, stackKey, drift, now, jobId, args.driftResources)
end
if redis.call('HGET', stackKey, 'job_id') == jobId then
  local was = redis.call('HGET', stackKey, 'status')
  setStackStatus(prefix, stackKey, stackStatus, now, 'job_status', jobStatus, 'error', jobError)
  if stackStatus == 'deleted' and was ~= 'deleted' then
    retireDeleted(prefix, stackKey, retentionSeconds, nowMs)
  end
end
return {'finished', redis.call('LINDEX', opsKey, 0) or ''}
