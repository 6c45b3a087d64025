--[[
  Changes fields of a webhook that exists (a webhook deleted meanwhile is
  not made again, half).

  Input:
    KEYS[1] webhook key

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      fields  the changes: field, value, field, value, ...
      audit   the audit note (see includes/audit.lua), or none

  Output:
    {'updated'}
    {'missing'}
]]
local webhookKey = KEYS[1]
local args = cjson.decode(ARGV[2])

--- @include "audit"

if redis.call('EXISTS', webhookKey) == 0 then return {'missing'} end
redis.call('HSET', webhookKey, unpack(args.fields))
auditWebhook(ARGV[1], args.audit, webhookKey)
return {'updated'}
