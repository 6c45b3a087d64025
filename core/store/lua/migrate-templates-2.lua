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
local indexKey = KEYS[1]
local schemaKey = KEYS[2]

local prefix = ARGV[1]
local after = ARGV[2]
local batch = tonumber(ARGV[3])
local template = ARGV[4]
local schemaVersion = ARGV[5]

--- @include "keys"

local start = '-'
if after ~= '' then start = '(' .. after end
local members = redis.call('ZRANGE', indexKey, start, '+', 'BYLEX', 'LIMIT', 0, batch)
local adopted = 0
for _, member in ipairs(members) do
  local id = string.sub(member, 17)
  local resourceKey = resourceKeyOf(prefix, id)
  local record = redis.call('HMGET', resourceKey, 'template', 'status')
  if not record[1] and record[2] then
    redis.call('HSET', resourceKey, 'template', template)
    redis.call('ZADD', templateIndexKeyOf(prefix, template), 0, member)
    redis.call('ZADD', templateStatusKeyOf(prefix, template, record[2]), 0, member)
    adopted = adopted + 1
  end
end
if #members < batch then
  redis.call('SET', schemaKey, schemaVersion)
  return {'done', tostring(adopted)}
end
return {'more', members[#members], tostring(adopted)}
