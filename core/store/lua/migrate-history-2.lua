--[[
  Gives the stacks recorded before job histories existed (see
  includes/history.lua) the history that can still be found: the jobs their
  records name (the current or last one, the one that found their drift) and
  their unfinished ones, each whose record still exists, by when it was
  created. Older jobs are not named anywhere, so they are not in it. The
  history persists while one of them is unfinished, and otherwise expires
  with the longest-lived of their records. One batch of the index at a time,
  oldest first; adding a member twice changes nothing, so a pass may be
  repeated. Once a pass finds nothing left, the schema version is recorded
  and later starts skip the scan.

  Input and output: those of includes/migrate-batch.lua; KEYS[1] the index of every stack.
  The count it returns (given): stacks that got a history.
]]
--- @include "migrate-batch"
--- @include "keys"
--- @include "history"

-- Milliseconds since the epoch of an ISO 8601 UTC time as toISOString()
-- writes it (days from the civil date: Howard Hinnant's algorithm).
local function isoToMs(iso)
  local y, mo, d, h, mi, s, ms = string.match(iso or '', '^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)%.?(%d*)Z$')
  if not y then return nil end
  y, mo = tonumber(y), tonumber(mo)
  if mo <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local doy = math.floor((153 * ((mo + 9) % 12) + 2) / 5) + tonumber(d) - 1
  local days = era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
  return (((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60 + tonumber(s)) * 1000 + (tonumber(ms) or 0)
end

return migrateBatch(function(member)
  local stackId = string.sub(member, 17)
  local stackKey = stackKeyOf(prefix, stackId)
  local historyKey = historyKeyOf(prefix, stackId)
  if redis.call('EXISTS', historyKey) == 1 then return false end
  local record = redis.call('HMGET', stackKey, 'job_id', 'drift_job_id')
  local opsKey = stackKey .. ':ops'
  local ids = redis.call('LRANGE', opsKey, 0, -1)
  if record[1] then ids[#ids + 1] = record[1] end
  if record[2] then ids[#ids + 1] = record[2] end
  local longest = 0
  for _, jobId in ipairs(ids) do
    local jobKey = jobKeyOf(prefix, jobId)
    local createdMs = isoToMs(redis.call('HGET', jobKey, 'created_at'))
    if createdMs then
      redis.call('ZADD', historyKey, 0, historyMemberOf(createdMs, jobId))
      local ttl = redis.call('PTTL', jobKey)
      if ttl < 0 or longest < 0 then longest = -1 elseif ttl > longest then longest = ttl end
    end
  end
  if redis.call('EXISTS', historyKey) == 0 then return false end
  if longest > 0 and redis.call('LLEN', opsKey) == 0 then redis.call('PEXPIRE', historyKey, longest) end
  return true
end)
