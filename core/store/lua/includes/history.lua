--[[
  A stack's job history: every job it gets, as an index member
  ("{created ms, 15 digits}:{job id}", score 0; see IndexMember in
  core/store/keys.ts), so it is paged newest first like the stack lists.

  It must not outlive the job records it names, which expire the retention
  period after they finish. So it persists while the stack has an unfinished
  job, and once none is left it expires with the last job's record; and a
  job that finishes drops the ids of jobs whose records are gone. Only a job
  recorded longer ago than the retention period can be gone (its record
  lives that long after it finished), so only those are checked, oldest
  first and a bounded number at a time. forget-deleted-2.lua removes it with
  the stack.
]]
--- @include "keys"

local HISTORY_PRUNE_BATCH = 50

local function historyMemberOf(ms, jobId)
  local digits = string.format('%.0f', tonumber(ms))
  return string.rep('0', 15 - #digits) .. digits .. ':' .. jobId
end

local function addToHistory(prefix, stackId, jobId, nowMs)
  local key = historyKeyOf(prefix, stackId)
  redis.call('ZADD', key, 0, historyMemberOf(nowMs, jobId))
  redis.call('PERSIST', key)
end

-- A job of the stack has just finished (and its record been given its expiry).
local function settleHistory(prefix, stackId, opsKey, nowMs, retentionSeconds)
  local key = historyKeyOf(prefix, stackId)
  local cutoff = historyMemberOf(tonumber(nowMs) - tonumber(retentionSeconds) * 1000, '')
  local old = redis.call('ZRANGE', key, '-', '(' .. cutoff, 'BYLEX', 'LIMIT', 0, HISTORY_PRUNE_BATCH)
  for _, member in ipairs(old) do
    if redis.call('EXISTS', jobKeyOf(prefix, string.sub(member, 17))) == 0 then redis.call('ZREM', key, member) end
  end
  if redis.call('LLEN', opsKey) == 0 then redis.call('EXPIRE', key, retentionSeconds) end
end
