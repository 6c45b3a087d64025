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
    ARGV[2] the arguments (JSON):
      member            index member of the delivery
      retentionSeconds  seconds the record is kept
      fields            its record: field, value, field, value, ...
      audit             the audit note (see includes/audit.lua) of a ping or a redelivery;
                        none otherwise

  Output:
    {'recorded'}
    {'exists', status}   recorded before; its status (pending, succeeded, failed)
    {'missing'}          the webhook is gone
]]
local deliveryKey, listKey, webhookKey = unpack(KEYS)

local args = cjson.decode(ARGV[2])
local member, retentionSeconds = args.member, args.retentionSeconds
local MAX_KEPT = 1000

--- @include "audit"

if redis.call('EXISTS', webhookKey) == 0 then return {'missing'} end
if redis.call('EXISTS', deliveryKey) == 1 then
  return {'exists', redis.call('HGET', deliveryKey, 'status') or 'pending'}
end
redis.call('HSET', deliveryKey, unpack(args.fields))
redis.call('EXPIRE', deliveryKey, retentionSeconds)
redis.call('ZADD', listKey, 0, member)
redis.call('ZREMRANGEBYRANK', listKey, 0, -(MAX_KEPT + 1))
auditWebhook(ARGV[1], args.audit, webhookKey)
return {'recorded'}
