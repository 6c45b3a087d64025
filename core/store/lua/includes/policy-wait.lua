--[[
  A stack whose current job waits `policy_failed` shows the status it had
  before the job, yet takes no new update or plan until the job is
  overridden or discarded: queued behind it, one would run after the
  override and undo (or hide) what the override applied.
  Returns the status to report in a conflict, or nil.
]]
local function policyWait(stackKey, status)
  local current = redis.call('HMGET', stackKey, 'job_status', 'job_id')
  if current[1] ~= 'policy_failed' then return nil end
  return status .. ', and its job ' .. (current[2] or '') .. ' waits for a policy override or a discard'
end
