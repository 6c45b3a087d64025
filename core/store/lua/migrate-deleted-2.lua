--[[
  Retires the stacks deleted before deleted stacks were forgotten (see
  includes/retire-deleted.lua): their sealed inputs go now, and their record
  is forgotten once the retention period from now is over. One batch of the
  index at a time, oldest first; a stack already due to be forgotten keeps
  its time. Once a pass finds nothing left, the schema version is recorded
  and later starts skip the scan.

  Input:
    KEYS[1] index of every resource
    KEYS[2] the store's schema version

    ARGV[1] key prefix
    ARGV[2] the last member the previous batch read, or '' to begin
    ARGV[3] members per batch
    ARGV[4] seconds a deleted stack is kept
    ARGV[5] now (ms)
    ARGV[6] the schema version this migration reaches

  Output:
    {'more', lastMember, retired}   read on from lastMember
    {'done', retired}               nothing left; the schema version is set
]]
local prefix = ARGV[1]
local after = ARGV[2]
local batch = tonumber(ARGV[3])
local retentionSeconds = ARGV[4]
local nowMs = ARGV[5]
local schemaVersion = ARGV[6]

--- @include "keys"
--- @include "migrate-batch"
--- @include "retire-deleted"

return migrateBatch(KEYS[1], KEYS[2], after, batch, schemaVersion, function(member)
  local resourceKey = resourceKeyOf(prefix, string.sub(member, 17))
  if redis.call('HGET', resourceKey, 'status') ~= 'deleted' or redis.call('ZSCORE', forgetKeyOf(prefix), member) ~= false then return false end
  retireDeleted(prefix, resourceKey, retentionSeconds, nowMs)
  return true
end)
