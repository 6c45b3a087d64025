--[[
  Gives an existing resource a new queued job, run with version
  `templateVersion` of the resource's template: the resource moves to
  `status`, points at the job, and the job joins the end of the resource's
  queue.
]]
--- @include "move-status"
--- @include "new-job"
local function queueJob(prefix, resourceKey, opsKey, jobKey, jobId, action, status, templateVersion, maxAttempts, now)
  local from = redis.call('HGET', resourceKey, 'status')
  moveStatus(prefix, resourceKey, from, status)
  redis.call('HSET', resourceKey, 'status', status, 'job_id', jobId, 'job_action', action,
    'job_status', 'queued', 'updated_at', now, 'error', '')
  local record = redis.call('HMGET', resourceKey, 'id', 'template')
  recordNewJob(jobKey, jobId, record[1], action, record[2] or 'ec2instance', templateVersion, maxAttempts, now)
  redis.call('RPUSH', opsKey, jobId)
end
