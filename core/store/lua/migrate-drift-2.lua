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
    ARGV[2] the last member the previous batch read, or '' to begin
    ARGV[3] members per batch
    ARGV[4] the schema version this migration reaches

  Output:
    {'more', lastMember, indexed}   read on from lastMember; indexed: the
                                    stacks that were missing from an index
    {'done', indexed}               nothing left; the schema version is set
]]
local indexKey = KEYS[1]
local schemaKey = KEYS[2]

local prefix = ARGV[1]
local after = ARGV[2]
local batch = tonumber(ARGV[3])
local schemaVersion = ARGV[4]

--- @include "keys"
--- @include "drift"

local start = '-'
if after ~= '' then start = '(' .. after end
local members = redis.call('ZRANGE', indexKey, start, '+', 'BYLEX', 'LIMIT', 0, batch)
local indexed = 0
for _, member in ipairs(members) do
  local resourceKey = resourceKeyOf(prefix, string.sub(member, 17))
  local status = redis.call('HGET', resourceKey, 'status')
  if status and status ~= 'deleted' then
    local template = redis.call('HGET', resourceKey, 'template') or 'ec2instance'
    local missing = redis.call('ZSCORE', templateStatusDriftKeyOf(prefix, template, status, driftOf(resourceKey)), member) == false
    enterDriftIndexes(prefix, resourceKey, status)
    if missing then indexed = indexed + 1 end
  end
end
if #members < batch then
  redis.call('SET', schemaKey, schemaVersion)
  return {'done', tostring(indexed)}
end
return {'more', members[#members], tostring(indexed)}
