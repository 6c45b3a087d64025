--[[
  Counts a finished job in the job duration histogram, a hash of
  "{action}|{outcome}|{le|count|sum}" fields. The buckets are
  JOB_DURATION_BUCKETS of core/store/metrics.ts (a test holds them equal).
]]
--- @include "keys"
local DURATION_BUCKETS = {1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600}
local function observeDuration(prefix, jobKey, outcome, nowMs)
  local job = redis.call('HMGET', jobKey, 'action', 'started_ms')
  local seconds = 0
  if job[2] then seconds = (tonumber(nowMs) - tonumber(job[2])) / 1000 end
  local key = metricsKeyOf(prefix)
  local base = job[1] .. '|' .. outcome .. '|'
  for _, le in ipairs(DURATION_BUCKETS) do
    if seconds <= le then redis.call('HINCRBY', key, base .. le, 1) end
  end
  redis.call('HINCRBY', key, base .. 'count', 1)
  redis.call('HINCRBYFLOAT', key, base .. 'sum', seconds)
end
