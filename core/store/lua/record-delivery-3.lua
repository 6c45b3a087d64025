--[[
  Records a delivery of an event to a webhook, unless it is recorded already
  (a dispatcher that died after recording it hands the event on again). The
  webhook keeps its newest MAX_KEPT deliveries listed; each record expires
  after the retention period.

  Input:
    KEYS[1] delivery key
    KEYS[2] the webhook's deliveries
    KEYS[3] webhook key

    ARGV[1] key prefix
    ARGV[2] index member of the delivery
    ARGV[3] seconds the record is kept
    ARGV[4] the audit note (JSON, see includes/audit.lua), or '' (a ping or a redelivery)
    ARGV[5..] field, value, field, value, ...

  Output:
    {'recorded'}
    {'exists', status}   recorded before; its status (pending, succeeded, failed)
    {'missing'}          the webhook is gone
]]
local deliveryKey = KEYS[1]
local listKey = KEYS[2]
local webhookKey = KEYS[3]

local member = ARGV[2]
local retentionSeconds = ARGV[3]
local MAX_KEPT = 1000

--- @include "audit"

if redis.call('EXISTS', webhookKey) == 0 then return {'missing'} end
if redis.call('EXISTS', deliveryKey) == 1 then return {'exists', redis.call('HGET', deliveryKey, 'status') or 'pending'} end
redis.call('HSET', deliveryKey, unpack(ARGV, 5))
redis.call('EXPIRE', deliveryKey, retentionSeconds)
redis.call('ZADD', listKey, 0, member)
redis.call('ZREMRANGEBYRANK', listKey, 0, -(MAX_KEPT + 1))
auditWebhook(ARGV[1], ARGV[4], webhookKey)
return {'recorded'}
