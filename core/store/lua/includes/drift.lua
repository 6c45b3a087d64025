--[[
  A stack's last drift result: the fields shown as its `drift`, and its
  member in the drift index it is in (the installation's and its template's).
  A stack never checked is in none (`unknown`); a deleted one leaves them.
  Being found drifted, when it was not (or not known) before, is an event.
]]
--- @include "keys"
--- @include "events"
local DRIFT_RESULTS = {'in_sync', 'drifted'}

local function leaveDriftIndexes(prefix, resourceKey)
  local record = redis.call('HMGET', resourceKey, 'member', 'template')
  local member, template = record[1], record[2] or 'ec2instance'
  for _, drift in ipairs(DRIFT_RESULTS) do
    redis.call('ZREM', driftKeyOf(prefix, drift), member)
    redis.call('ZREM', templateDriftKeyOf(prefix, template, drift), member)
  end
end

-- `resources`: the changes found (JSON array of {address, action}).
local function recordDrift(prefix, resourceKey, drift, checkedAt, jobId, resources)
  local was = redis.call('HGET', resourceKey, 'drift_status')
  leaveDriftIndexes(prefix, resourceKey)
  local record = redis.call('HMGET', resourceKey, 'member', 'template')
  local member, template = record[1], record[2] or 'ec2instance'
  redis.call('ZADD', driftKeyOf(prefix, drift), 0, member)
  redis.call('ZADD', templateDriftKeyOf(prefix, template, drift), 0, member)
  redis.call('HSET', resourceKey, 'drift_status', drift, 'drift_checked_at', checkedAt, 'drift_job_id', jobId, 'drift_resources', resources)
  if drift == 'drifted' and was ~= 'drifted' then driftedEvent(prefix, resourceKey, jobId, checkedAt) end
end
