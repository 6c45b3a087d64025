--[[
  Gives an existing stack a new queued job (`job`, see new-job.lua, of
  which the stack's id and template are filled in here): the stack
  moves to `status`, points at the job, and the job joins the end of the
  stack's queue.
]]
--- @include "move-status"
--- @include "new-job"
local function queueJob(prefix, stackKey, opsKey, jobKey, job, status)
  local record = redis.call('HMGET', stackKey, 'id', 'template')
  job.stackId, job.template = record[1], record[2]
  recordNewJob(prefix, stackKey, jobKey, job)
  setStackStatus(prefix, stackKey, status, job.now, 'job_id', job.id, 'job_action', job.action,
    'job_status', 'queued', 'error', '')
  redis.call('RPUSH', opsKey, job.id)
end

-- The status of a stack a new job is asked of, if it is one of `allowed` (a
-- set of statuses); otherwise nil and the reply that refuses the request.
local function requestableStatus(stackKey, allowed)
  local status = redis.call('HGET', stackKey, 'status')
  if not status then return nil, {'missing'} end
  if not allowed[status] then return nil, {'conflict', status} end
  return status
end
