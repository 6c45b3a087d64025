--[[
  Asks a webhook's circuit whether a delivery may be attempted now. Closed:
  yes. Open: not before it closes; the delivery is listed as held, so that
  whatever closes the circuit can send it at once. Open past its time
  (half-open): one delivery is let through as the trial that decides, and
  the others wait for its outcome; a trial whose worker died without
  reporting is given to another after `trialMs`.

  Input:
    KEYS[1] webhook key
    KEYS[2] the webhook's held deliveries

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      deliveryId  delivery id
      nowMs       now (ms)
      trialMs     how long a trial may take (ms)

  Output:
    {'go'}
    {'trial'}
    {'wait', untilMs}   held until then (or until the circuit closes)
]]
local webhookKey, heldKey = unpack(KEYS)

local args = cjson.decode(ARGV[2])
local deliveryId, nowMs, trialMs = args.deliveryId, args.nowMs, args.trialMs

if redis.call('HGET', webhookKey, 'circuit_state') ~= 'open' then return {'go'} end
local untilMs = tonumber(redis.call('HGET', webhookKey, 'circuit_until_ms')) or 0
local trialUntilMs = tonumber(redis.call('HGET', webhookKey, 'circuit_trial_until_ms')) or 0
local waitUntil = math.max(untilMs, trialUntilMs)
if nowMs < waitUntil then
  redis.call('SADD', heldKey, deliveryId)
  return {'wait', tostring(waitUntil)}
end
redis.call('HSET', webhookKey, 'circuit_trial_until_ms', nowMs + trialMs)
return {'trial'}
