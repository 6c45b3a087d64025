--[[
  Puts resources recorded before the drift indexes covered every live stack
  into the indexes lists read: their template's drift status (unknown
  included) and their template's status and drift status together (see
  includes/drift.lua). One batch of the index at a time, oldest first; adding
  a member twice changes nothing, so a pass may be repeated. Once a pass finds
  nothing left, the schema version is recorded and later starts skip the scan.

  Input and output: those of includes/migrate-batch.lua; KEYS[1] the index of every stack.
  The count it returns (indexed): the stacks that were missing from an index.
]]
--- @include "migrate-batch"
--- @include "keys"
--- @include "drift"

return migrateBatch(function(member)
  local stackKey = stackKeyOf(prefix, string.sub(member, 17))
  local status = redis.call('HGET', stackKey, 'status')
  if not status or status == 'deleted' then return false end
  local template = redis.call('HGET', stackKey, 'template')
  local indexKey = templateStatusDriftKeyOf(prefix, template, status, driftOf(stackKey))
  local missing = redis.call('ZSCORE', indexKey, member) == false
  enterDriftIndexes(prefix, stackKey, status)
  return missing
end)
