--[[
  Revokes a token of a project: its record, its digest and its name go in one
  step, so the next verify anywhere refuses it. A token of another project is
  missing here, as one that never existed.

  Input:
    KEYS[1] token key
    KEYS[2] the project's token names

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      id       token id
      project  project
      audit    the audit note (see includes/audit.lua), or none

  Output:
    {'revoked'}
    {'missing'}
]]
--- @include "keys"
--- @include "audit"

local tokenKey, namesKey = unpack(KEYS)

local prefix, args = ARGV[1], cjson.decode(ARGV[2])
local id, project = args.id, args.project

local fields = redis.call('HMGET', tokenKey, 'project', 'name', 'digest')
if fields[1] ~= project then return {'missing'} end
redis.call('DEL', tokenKey, tokenDigestKeyOf(prefix, fields[3]))
if redis.call('HGET', namesKey, fields[2]) == id then redis.call('HDEL', namesKey, fields[2]) end
appendAudit(prefix, args.audit, project, 'token', id)
return {'revoked'}
