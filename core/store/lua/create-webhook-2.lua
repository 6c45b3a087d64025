--[[
  Stores a new webhook unless the installation already has its cap of them.
  The count and the write are one step, so two registrations racing for the
  last place cannot both take it. (When webhooks belong to projects, the
  project's own index and cap are checked here beside the installation's.)

  Input:
    KEYS[1] webhook key
    KEYS[2] index of every webhook

    ARGV[1] key prefix
    ARGV[2] the cap on webhooks
    ARGV[3] index member of the webhook
    ARGV[4] the audit note (JSON, see includes/audit.lua), or ''
    ARGV[5..] field, value, field, value, ...

  Output:
    {'created'}
    {'limit', count}   the installation has `count` webhooks, its cap or more
]]
local webhookKey = KEYS[1]
local indexKey = KEYS[2]

local limit = tonumber(ARGV[2])
local member = ARGV[3]

--- @include "audit"

local count = redis.call('ZCARD', indexKey)
if count >= limit then return {'limit', tostring(count)} end
redis.call('HSET', webhookKey, unpack(ARGV, 5))
redis.call('ZADD', indexKey, 0, member)
appendAudit(ARGV[1], ARGV[4], '*', 'webhook', redis.call('HGET', webhookKey, 'id'))
return {'created'}
