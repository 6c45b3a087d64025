--[[
  Removes every trace of a stack whose create job never reached the queue,
  so a client that was told 503 does not find it stuck in "creating". Its
  events (creating, queued) may have gone out already: they are followed by
  the job's cancelled and the stack's deleted.

  Input: the keys and arguments of includes/job-script.lua, and
    KEYS[4] the job's log
    KEYS[5] index of every stack
    KEYS[6] the owner's live resources
    KEYS[7] the Idempotency-Key's record, if the create had one
    ARGV[2] holds:
      jobId       job id
      stackId  stack id
      now         now (ISO 8601)

  Output:
    {'discarded'}
]]
local logKey, indexKey, ownerLiveKey, idempotencyKey = unpack(KEYS, 4)

--- @include "job-script"
local stackId = args.stackId

--- @include "keys"
--- @include "idempotency"
--- @include "events"
--- @include "drift"

local record = redis.call('HMGET', stackKey, 'member', 'status', 'template', 'project')
local member, status, template, project = record[1], record[2], record[3], record[4]
if member then
  if redis.call('EXISTS', jobKey) == 1 then setJobStatus(prefix, stackKey, jobKey, 'cancelled', now) end
  leaveDriftIndexes(prefix, stackKey, status)
  redis.call('HSET', stackKey, 'status', 'deleted')
  stackEvent(prefix, stackKey, now)
  redis.call('ZREM', indexKey, member)
  redis.call('ZREM', statusKeyOf(prefix, status), member)
  if template then
    for _, scope in ipairs(listScopesOf(project)) do
      redis.call('ZREM', templateIndexKeyOf(prefix, template, scope), member)
      redis.call('ZREM', templateStatusKeyOf(prefix, template, status, scope), member)
    end
  end
  redis.call('SREM', projectLiveKeyOf(prefix, project), stackId)
end
redis.call('SREM', ownerLiveKey, stackId)
local idempotent = redis.call('GET', idempotencyKey)
if idempotent and splitIdempotencyValue(idempotent) == stackId then redis.call('DEL', idempotencyKey) end
redis.call('DEL', stackKey, jobKey, opsKey, logKey, historyKeyOf(prefix, stackId))
return {'discarded'}
