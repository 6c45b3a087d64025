--[[
  Changes fields of a webhook that exists (a webhook deleted meanwhile is
  not made again, half).

  Input:
    KEYS[1] webhook key

    ARGV[1] key prefix
    ARGV[2] the audit note (JSON, see includes/audit.lua), or ''
    ARGV[3..] field, value, field, value, ...

  Output:
    {'updated'}
    {'missing'}
]]
local webhookKey = KEYS[1]

--- @include "audit"

if redis.call('EXISTS', webhookKey) == 0 then return {'missing'} end
redis.call('HSET', webhookKey, unpack(ARGV, 3))
auditWebhook(ARGV[1], ARGV[2], webhookKey)
return {'updated'}
