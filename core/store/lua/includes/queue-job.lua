--[[
  Gives an existing resource a new queued job: the resource moves to `status`,
  points at the job, and the job joins the end of the resource's queue.
]]
--- @include "move-status"
--- @include "new-job"
local function queueJob(prefix, resourceKey, opsKey, jobKey, jobId, action, status, maxAttempts, now)
  local from = redis.call('HGET', resourceKey, 'status')
  moveStatus(prefix, resourceKey, from, status)
  redis.call('HSET', resourceKey, 'status', status, 'job_id', jobId, 'job_action', action,
    'job_status', 'queued', 'updated_at', now, 'error', '')
  recordNewJob(jobKey, jobId, redis.call('HGET', resourceKey, 'id'), action, maxAttempts, now)
  redis.call('RPUSH', opsKey, jobId)
end
