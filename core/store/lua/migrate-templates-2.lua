--[[
  Gives resources recorded before templates existed their template and puts
  them in its indexes, one batch of the index at a time, oldest first. Those
  records have no `template` field: every one was a stack of the single
  configuration tfcompute served then, as the template it is served as now.
  Once a pass finds nothing left, the schema version is recorded and later
  starts skip the scan.

  Input and output: those of includes/migrate-batch.lua; KEYS[1] the index of every stack.
  Its own arguments, in ARGV[2]:
    template  the template of records without one
]]
--- @include "migrate-batch"
--- @include "keys"

return migrateBatch(function(member)
  local stackKey = stackKeyOf(prefix, string.sub(member, 17))
  local record = redis.call('HMGET', stackKey, 'template', 'status')
  if record[1] or not record[2] then return false end
  redis.call('HSET', stackKey, 'template', args.template)
  redis.call('ZADD', templateIndexKeyOf(prefix, args.template), 0, member)
  redis.call('ZADD', templateStatusKeyOf(prefix, args.template, record[2]), 0, member)
  return true
end)
