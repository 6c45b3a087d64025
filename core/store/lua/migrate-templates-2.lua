--[[
  Gives resources recorded before templates existed their template and puts
  them in its indexes, one batch of the index at a time, oldest first. Those
  records have no `template` field: every one was a stack of the single
  configuration tfcompute served then, as the template it is served as now.
  Once a pass finds nothing left, the schema version is recorded and later
  starts skip the scan.

  Input:
    KEYS[1] index of every resource
    KEYS[2] the store's schema version

    ARGV[1] key prefix
    ARGV[2] the last member the previous batch read, or '' to begin
    ARGV[3] members per batch
    ARGV[4] the template of records without one
    ARGV[5] the schema version this migration reaches

  Output:
    {'more', lastMember, adopted}   read on from lastMember
    {'done', adopted}               nothing left; the schema version is set
]]
local prefix = ARGV[1]
local after = ARGV[2]
local batch = tonumber(ARGV[3])
local template = ARGV[4]
local schemaVersion = ARGV[5]

--- @include "keys"
--- @include "migrate-batch"

return migrateBatch(KEYS[1], KEYS[2], after, batch, schemaVersion, function(member)
  local resourceKey = resourceKeyOf(prefix, string.sub(member, 17))
  local record = redis.call('HMGET', resourceKey, 'template', 'status')
  if record[1] or not record[2] then return false end
  redis.call('HSET', resourceKey, 'template', template)
  redis.call('ZADD', templateIndexKeyOf(prefix, template), 0, member)
  redis.call('ZADD', templateStatusKeyOf(prefix, template, record[2]), 0, member)
  return true
end)
