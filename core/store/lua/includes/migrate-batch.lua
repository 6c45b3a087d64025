--[[
  One batch of a migration over an index (of every resource, or of every
  webhook), oldest first:
  `visit(member)` brings one record up to date and says whether it changed
  it (adding a member twice changes nothing, so every migration may be
  repeated). Once a batch finds nothing left, the schema version is
  recorded, so later starts skip the scan. Returns the script's reply:
  {'more', lastMember, changed}, or {'done', changed}.
]]
local function migrateBatch(indexKey, schemaKey, after, batch, schemaVersion, visit)
  local start = '-'
  if after ~= '' then start = '(' .. after end
  local members = redis.call('ZRANGE', indexKey, start, '+', 'BYLEX', 'LIMIT', 0, batch)
  local changed = 0
  for _, member in ipairs(members) do
    if visit(member) then changed = changed + 1 end
  end
  if #members < batch then
    redis.call('SET', schemaKey, schemaVersion)
    return {'done', tostring(changed)}
  end
  return {'more', members[#members], tostring(changed)}
end
