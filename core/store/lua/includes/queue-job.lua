--[[
  Gives an existing resource a new queued job (`job`, see new-job.lua, of
  which the resource's id and template are filled in here): the resource
  moves to `status`, points at the job, and the job joins the end of the
  resource's queue.
]]
--- @include "move-status"
--- @include "new-job"
local function queueJob(prefix, resourceKey, opsKey, jobKey, job, status)
  local record = redis.call('HMGET', resourceKey, 'id', 'template')
  job.resourceId, job.template = record[1], record[2]
  recordNewJob(prefix, resourceKey, jobKey, job)
  setResourceStatus(prefix, resourceKey, status, job.now, 'job_id', job.id, 'job_action', job.action,
    'job_status', 'queued', 'error', '')
  redis.call('RPUSH', opsKey, job.id)
end
