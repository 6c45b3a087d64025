--[[
  Forgets stacks deleted longer ago than the retention period (see
  includes/retire-deleted.lua), oldest first, at most one batch: each one's
  record and its index entries go together, so a list never names a stack
  whose record is gone, and its Idempotency-Key goes with it (a key that
  names another stack by now is left alone), and its job history. Its
  jobs' records expire on their own, after the same period.

  Input:
    KEYS[1] deleted stacks, by the time (ms) they are forgotten
    KEYS[2] index of every stack

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      nowMs  now (ms)
      batch  stacks per batch

  Output:
    {'forgotten', count}   count < batch: none is due any more
]]
local forgetKey, indexKey = unpack(KEYS)

local prefix, args = ARGV[1], cjson.decode(ARGV[2])

--- @include "keys"
--- @include "idempotency"

local members = redis.call('ZRANGE', forgetKey, '-inf', args.nowMs, 'BYSCORE', 'LIMIT', 0, args.batch)
for _, member in ipairs(members) do
  local id = string.sub(member, 17)
  local stackKey = stackKeyOf(prefix, id)
  local record = redis.call('HMGET', stackKey, 'status', 'template', 'idempotency_key', 'project')
  local status, template, idempotencyKey, project = record[1], record[2], record[3], record[4]
  -- Deleted is final; the check only guards against a member written by mistake.
  if status == 'deleted' then
    redis.call('ZREM', indexKey, member)
    redis.call('ZREM', statusKeyOf(prefix, 'deleted'), member)
    if template then
      for _, scope in ipairs(listScopesOf(project)) do
        redis.call('ZREM', templateIndexKeyOf(prefix, template, scope), member)
        redis.call('ZREM', templateStatusKeyOf(prefix, template, 'deleted', scope), member)
      end
    end
    if idempotencyKey then
      local value = redis.call('GET', idempotencyKey)
      if value and splitIdempotencyValue(value) == id then redis.call('DEL', idempotencyKey) end
    end
    redis.call('DEL', stackKey, historyKeyOf(prefix, id))
  end
  redis.call('ZREM', forgetKey, member)
end
return {'forgotten', tostring(#members)}
