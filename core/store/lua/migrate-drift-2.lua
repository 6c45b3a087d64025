--[[
  Puts resources recorded before the drift indexes covered every live stack
  into the indexes lists read: their template's drift status (unknown
  included) and their template's status and drift status together (see
  includes/drift.lua). One batch of the index at a time, oldest first; adding
  a member twice changes nothing, so a pass may be repeated. Once a pass finds
  nothing left, the schema version is recorded and later starts skip the scan.

  Input:
    KEYS[1] index of every resource
    KEYS[2] the store's schema version

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON, see includes/migrate-batch.lua)

  Output:
    {'more', lastMember, indexed}   read on from lastMember; indexed: the
                                    stacks that were missing from an index
    {'done', indexed}               nothing left; the schema version is set
]]
local prefix = ARGV[1]
local args = cjson.decode(ARGV[2])

--- @include "keys"
--- @include "migrate-batch"
--- @include "drift"

return migrateBatch(args, function(member)
  local resourceKey = resourceKeyOf(prefix, string.sub(member, 17))
  local status = redis.call('HGET', resourceKey, 'status')
  if not status or status == 'deleted' then return false end
  local template = redis.call('HGET', resourceKey, 'template')
  local missing = redis.call('ZSCORE', templateStatusDriftKeyOf(prefix, template, status, driftOf(resourceKey)), member) == false
  enterDriftIndexes(prefix, resourceKey, status)
  return missing
end)
