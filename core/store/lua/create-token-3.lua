--[[
  Stores a token made through the API unless its project already has a live
  token of that name. The check and the write are one step, so two creates
  racing for one name cannot both take it. Only the token's digest is given.

  Input:
    KEYS[1] token key
    KEYS[2] digest key (the token's SHA-256)
    KEYS[3] the project's token names

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      id         token id
      name       token name
      expiresMs  when it expires (ms since the epoch), or '' for never
      project    the project
      fields     its record: field, value, field, value, ...
      audit      the audit note (see includes/audit.lua), or none

  Output:
    {'created'}
    {'taken', id}   the live token `id` has the name
]]
--- @include "keys"
--- @include "audit"

local tokenKey, digestKey, namesKey = unpack(KEYS)

local prefix, args = ARGV[1], cjson.decode(ARGV[2])
local id, name, expiresMs = args.id, args.name, args.expiresMs

-- A name whose token has expired (its key gone) is free again.
local holder = redis.call('HGET', namesKey, name)
if holder and redis.call('EXISTS', tokenKeyOf(prefix, holder)) == 1 then return {'taken', holder} end

redis.call('HSET', tokenKey, unpack(args.fields))
redis.call('SET', digestKey, id)
redis.call('HSET', namesKey, name, id)
if expiresMs ~= '' then
  redis.call('PEXPIREAT', tokenKey, expiresMs)
  redis.call('PEXPIREAT', digestKey, expiresMs)
end
appendAudit(prefix, args.audit, args.project, 'token', id)
return {'created'}
