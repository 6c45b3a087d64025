--[[
  A project's slots for running jobs (its quota's max_running_jobs): each
  running job holds one, and jobs waiting for one queue in the order they
  first asked, so they start in that order. A job gives its slot, or its
  place in the queue, back as soon as its status is anything but running
  (setJobStatus): it finished, was cancelled, waits for approval or for its
  next attempt. A job run again after its worker died keeps its slot.
]]
--- @include "keys"

local function projectOfJob(jobKey)
  return redis.call('HGET', jobKey, 'project') or 'default'
end

-- Whether the job may start now; if not, it has its place in the queue.
local function takeSlot(prefix, jobKey, jobId, nowMs)
  local project = projectOfJob(jobKey)
  local max = tonumber(redis.call('HGET', projectKeyOf(prefix, project), 'max_running_jobs'))
  local running = projectRunningKeyOf(prefix, project)
  if not max or redis.call('SISMEMBER', running, jobId) == 1 then return true end
  local waiting = projectWaitingKeyOf(prefix, project)
  redis.call('ZADD', waiting, 'NX', nowMs, jobId)
  if redis.call('SCARD', running) + redis.call('ZRANK', waiting, jobId) >= max then return false end
  redis.call('ZREM', waiting, jobId)
  redis.call('SADD', running, jobId)
  return true
end

local function giveSlot(prefix, jobKey, jobId)
  local project = projectOfJob(jobKey)
  redis.call('SREM', projectRunningKeyOf(prefix, project), jobId)
  redis.call('ZREM', projectWaitingKeyOf(prefix, project), jobId)
end
