--[[
  Revokes a token of a project: its record, its digest and its name go in one
  step, so the next verify anywhere refuses it. A token of another project is
  missing here, as one that never existed.

  Input:
    KEYS[1] token key
    KEYS[2] the project's token names

    ARGV[1] key prefix
    ARGV[2] token id
    ARGV[3] project
    ARGV[4] the audit note (JSON, see includes/audit.lua), or ''

  Output:
    {'revoked'}
    {'missing'}
]]
--- @include "keys"
--- @include "audit"

local tokenKey = KEYS[1]
local namesKey = KEYS[2]

local prefix = ARGV[1]
local id = ARGV[2]
local project = ARGV[3]

local fields = redis.call('HMGET', tokenKey, 'project', 'name', 'digest')
if fields[1] ~= project then return {'missing'} end
redis.call('DEL', tokenKey, tokenDigestKeyOf(prefix, fields[3]))
if redis.call('HGET', namesKey, fields[2]) == id then redis.call('HDEL', namesKey, fields[2]) end
appendAudit(prefix, ARGV[4], project, 'token', id)
return {'revoked'}
