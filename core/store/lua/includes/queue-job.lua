--[[
  Gives an existing resource a new queued job, run with version
  `templateVersion` of the resource's template: the resource moves to
  `status`, points at the job, and the job joins the end of the resource's
  queue.
]]
--- @include "move-status"
--- @include "new-job"
local function queueJob(prefix, resourceKey, opsKey, jobKey, jobId, action, status, templateVersion, maxAttempts, now, nowMs, createdBy)
  local record = redis.call('HMGET', resourceKey, 'id', 'template')
  recordNewJob(prefix, resourceKey, jobKey, jobId, record[1], action, record[2], templateVersion, maxAttempts, now, nowMs, createdBy)
  setResourceStatus(prefix, resourceKey, status, now, 'job_id', jobId, 'job_action', action, 'job_status', 'queued', 'error', '')
  redis.call('RPUSH', opsKey, jobId)
end
