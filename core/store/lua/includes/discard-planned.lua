--[[
  Ends a planned update without applying it: the job is finished with
  `ending.status` (discarded, or cancelled) and `ending.error` at
  `ending.now` (and `nowMs`), kept `ending.retentionSeconds`; it leaves its
  stack's queue, and its
  stack, if it is still the current job, returns to the status it had
  before the update. Nothing was applied, so the stack's inputs stay.
]]
--- @include "move-status"
--- @include "observe-duration"
--- @include "events"
--- @include "history"
local function discardPlanned(prefix, stackKey, jobKey, opsKey, jobId, ending)
  local status, now, nowMs, retentionSeconds = ending.status, ending.now, ending.nowMs, ending.retentionSeconds
  setJobStatus(prefix, stackKey, jobKey, status, now, 'finished_at', now, 'error', ending.error)
  redis.call('HDEL', jobKey, 'new_secrets')
  redis.call('EXPIRE', jobKey, retentionSeconds)
  observeDuration(prefix, jobKey, status, nowMs)
  redis.call('LREM', opsKey, 0, jobId)
  settleHistory(prefix, redis.call('HGET', jobKey, 'resource_id'), opsKey, nowMs, retentionSeconds)
  if redis.call('HGET', stackKey, 'job_id') == jobId then
    local to = redis.call('HGET', jobKey, 'previous_status') or 'ready'
    setStackStatus(prefix, stackKey, to, now, 'job_status', status, 'error', '')
  end
end
