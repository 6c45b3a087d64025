--[[
  One batch of a migration over an index (of every stack, or of every
  webhook), oldest first:
  `visit(member)` brings one record up to date and says whether it changed
  it (adding a member twice changes nothing, so every migration may be
  repeated). Once a batch finds nothing left, the schema version is
  recorded, so later starts skip the scan. Returns the script's reply:
  {'more', lastMember, changed}, or {'done', changed}.
  The opening of every migration: its keys and packed arguments
  (core/store/migrations.ts), decoded into `prefix` and `args`:
    KEYS[1] the index it reads through
    KEYS[2] the store's schema version
    ARGV[1] key prefix
    ARGV[2] the arguments (JSON): `after`, the last member the previous batch
            read, or '' to begin; `batch`, members per batch; `version`, the
            schema version the migration reaches; and its own.
]]
local prefix, args = ARGV[1], cjson.decode(ARGV[2])

local function migrateBatch(visit)
  local indexKey, schemaKey, batch = KEYS[1], KEYS[2], args.batch
  local start = '-'
  if args.after ~= '' then start = '(' .. args.after end
  local members = redis.call('ZRANGE', indexKey, start, '+', 'BYLEX', 'LIMIT', 0, batch)
  local changed = 0
  for _, member in ipairs(members) do
    if visit(member) then changed = changed + 1 end
  end
  if #members < batch then
    redis.call('SET', schemaKey, args.version)
    return {'done', tostring(changed)}
  end
  return {'more', members[#members], tostring(changed)}
end
