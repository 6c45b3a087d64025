--[[
  A stack's last drift result: the fields shown as its `drift`, and its
  member in the drift indexes it is in. A live stack is in exactly one drift
  status of its template (in_sync, drifted, or unknown: never checked), and
  of its template and status together, so every list filter reads one index;
  the installation's indexes (for the counts) hold the results only. A
  deleted stack leaves them all.
  Being found drifted, when it was not (or not known) before, is an event.
]]
--- @include "keys"
--- @include "events"
local DRIFT_RESULTS = {'in_sync', 'drifted'}
local DRIFT_STATUSES = {'in_sync', 'drifted', 'unknown'}

local function driftOf(stackKey)
  local drift = redis.call('HGET', stackKey, 'drift_status')
  if drift == 'in_sync' or drift == 'drifted' then return drift end
  return 'unknown'
end

-- `status`: the status the stack is indexed under.
local function leaveDriftIndexes(prefix, stackKey, status)
  local record = redis.call('HMGET', stackKey, 'member', 'template', 'project')
  local member, template = record[1], record[2]
  for _, drift in ipairs(DRIFT_RESULTS) do redis.call('ZREM', driftKeyOf(prefix, drift), member) end
  for _, scope in ipairs(listScopesOf(record[3])) do
    for _, drift in ipairs(DRIFT_STATUSES) do
      redis.call('ZREM', templateDriftKeyOf(prefix, template, drift, scope), member)
      redis.call('ZREM', templateStatusDriftKeyOf(prefix, template, status, drift, scope), member)
    end
  end
end

local function enterDriftIndexes(prefix, stackKey, status)
  local record = redis.call('HMGET', stackKey, 'member', 'template', 'project')
  local member, template = record[1], record[2]
  local drift = driftOf(stackKey)
  if drift ~= 'unknown' then redis.call('ZADD', driftKeyOf(prefix, drift), 0, member) end
  for _, scope in ipairs(listScopesOf(record[3])) do
    redis.call('ZADD', templateDriftKeyOf(prefix, template, drift, scope), 0, member)
    redis.call('ZADD', templateStatusDriftKeyOf(prefix, template, status, drift, scope), 0, member)
  end
end

-- `resources`: the changes found (JSON array of {address, action}).
local function recordDrift(prefix, stackKey, drift, checkedAt, jobId, resources)
  local record = redis.call('HMGET', stackKey, 'drift_status', 'status')
  local was, status = record[1], record[2]
  leaveDriftIndexes(prefix, stackKey, status)
  redis.call('HSET', stackKey, 'drift_status', drift, 'drift_checked_at', checkedAt, 'drift_job_id', jobId,
    'drift_resources', resources)
  enterDriftIndexes(prefix, stackKey, status)
  if drift == 'drifted' and was ~= 'drifted' then driftedEvent(prefix, stackKey, jobId, checkedAt) end
end
