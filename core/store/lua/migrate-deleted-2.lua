--[[
  Retires the stacks deleted before deleted stacks were forgotten (see
  includes/retire-deleted.lua): their sealed inputs go now, and their record
  is forgotten once the retention period from now is over. One batch of the
  index at a time, oldest first; a stack already due to be forgotten keeps
  its time. Once a pass finds nothing left, the schema version is recorded
  and later starts skip the scan.

  Input and output: those of includes/migrate-batch.lua; KEYS[1] the index of every stack.
  Its own arguments, in ARGV[2]:
    retentionSeconds  seconds a deleted stack is kept
    nowMs             now (ms)
]]
--- @include "migrate-batch"
--- @include "keys"
--- @include "retire-deleted"

return migrateBatch(function(member)
  local stackKey = stackKeyOf(prefix, string.sub(member, 17))
  if redis.call('HGET', stackKey, 'status') ~= 'deleted' then return false end
  if redis.call('ZSCORE', forgetKeyOf(prefix), member) ~= false then return false end
  retireDeleted(prefix, stackKey, args.retentionSeconds, args.nowMs)
  return true
end)
