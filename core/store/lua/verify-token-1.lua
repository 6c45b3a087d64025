--[[
  Finds the token a presented secret's digest belongs to, in one round trip,
  so that a revocation on any API process holds at once on every other. An
  expired token is refused even before Redis has dropped its keys. Its last
  use is recorded at most once every `resolution` ms, so that a busy token
  does not write on every request.

  Input:
    KEYS[1] digest key (the presented token's SHA-256)

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      nowMs       now (ms since the epoch)
      resolution  resolution of last use (ms)

  Output:
    {'valid', id, project, name, role, created_by, created_ms, expires_ms, last_used_ms}
    {'expired'}
    {'missing'}
]]
--- @include "keys"
--- @include "token-fields"

local digestKey = KEYS[1]

local prefix, args = ARGV[1], cjson.decode(ARGV[2])
local nowMs, resolution = args.nowMs, args.resolution

local id = redis.call('GET', digestKey)
if not id then return {'missing'} end
local tokenKey = tokenKeyOf(prefix, id)
local record = tokenRecord(tokenKey)
if not record then return {'missing'} end
local expiresMs = record[7]
if expiresMs ~= '' and tonumber(expiresMs) <= nowMs then return {'expired'} end
local lastUsedMs = record[8]
if lastUsedMs == '' or nowMs - tonumber(lastUsedMs) >= resolution then
  record[8] = tostring(nowMs)
  redis.call('HSET', tokenKey, 'last_used_ms', record[8])
end
return {'valid', unpack(record)}
