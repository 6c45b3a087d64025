--[[
  A stack has just become deleted: nothing will run with its sealed
  sensitive inputs again, so they go at once; its record, its index entries
  and its Idempotency-Key are due to be forgotten once the retention period
  is over, as its jobs' records are (forget-deleted-2.lua does it).
]]
--- @include "keys"
local function retireDeleted(prefix, stackKey, retentionSeconds, nowMs)
  redis.call('HDEL', stackKey, 'secrets')
  local member = redis.call('HGET', stackKey, 'member')
  redis.call('ZADD', forgetKeyOf(prefix), tonumber(nowMs) + tonumber(retentionSeconds) * 1000, member)
end
