--[[
  Changes fields of a policy or a webhook that exists (one deleted meanwhile
  is not made again, half).

  Input:
    KEYS[1] the policy's or webhook's key

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      fields  the changes: field, value, field, value, ...
      target  'policy' or 'webhook': what the audit entry names
      audit   the audit note (see includes/audit.lua), or none

  Output:
    {'updated'}
    {'missing'}
]]
local key = KEYS[1]
local args = cjson.decode(ARGV[2])

--- @include "audit"

if redis.call('EXISTS', key) == 0 then return {'missing'} end
redis.call('HSET', key, unpack(args.fields))
-- A policy always has a project; a webhook without one is every project's ('*').
auditRecord(ARGV[1], args.audit, key, args.target, '*')
return {'updated'}
