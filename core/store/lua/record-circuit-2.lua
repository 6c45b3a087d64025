--[[
  Counts an attempt's outcome against its webhook's circuit. A success
  closes it (and answers the deliveries it held, to be sent now). A failure
  adds to the failures in a row; the run starts again when its first one is
  older than the window. `threshold` in a row opens the circuit for
  `openMs`. A failure once an open circuit's time is up is the trial's
  (half-open): it opens again for `openMs`.

  Input:
    KEYS[1] webhook key
    KEYS[2] the webhook's held deliveries

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON):
      result     'success' or 'failure'
      nowMs      now (ms)
      now        now (ISO 8601)
      threshold  failures in a row that open the circuit
      windowMs   the window (ms)
      openMs     how long it stays open (ms)
      openUntil  until when it would stay open, if opened now (ISO 8601)
      error      the attempt's error

  Output:
    {'closed', heldId...}   it was open, and is closed
    {'opened', reason}
    {'reopened', reason}    the trial failed
    {'unchanged'}
    {'missing'}             the webhook is gone
]]
local webhookKey, heldKey = unpack(KEYS)

local args = cjson.decode(ARGV[2])
local result, nowMs, now, threshold = args.result, args.nowMs, args.now, args.threshold
local windowMs, openMs, openUntil = args.windowMs, args.openMs, args.openUntil
local lastError = args.error

if redis.call('EXISTS', webhookKey) == 0 then return {'missing'} end
local open = redis.call('HGET', webhookKey, 'circuit_state') == 'open'

local function openFor(reason)
  redis.call('HSET', webhookKey, 'circuit_state', 'open', 'circuit_until', openUntil,
    'circuit_until_ms', nowMs + openMs,
    'circuit_reason', reason, 'circuit_changed_at', now, 'circuit_failures', 0)
  redis.call('HDEL', webhookKey, 'circuit_trial_until_ms')
end

if result == 'success' then
  if not open then
    redis.call('HSET', webhookKey, 'circuit_failures', 0)
    return {'unchanged'}
  end
  redis.call('HSET', webhookKey, 'circuit_state', 'closed', 'circuit_until', '', 'circuit_until_ms', 0,
    'circuit_reason', '', 'circuit_changed_at', now, 'circuit_failures', 0)
  redis.call('HDEL', webhookKey, 'circuit_trial_until_ms')
  local held = redis.call('SMEMBERS', heldKey)
  redis.call('DEL', heldKey)
  return {'closed', unpack(held)}
end

if open then
  local untilMs = tonumber(redis.call('HGET', webhookKey, 'circuit_until_ms')) or 0
  if nowMs < untilMs then return {'unchanged'} end
  local reason = 'the trial attempt after the pause failed: ' .. lastError
  openFor(reason)
  return {'reopened', reason}
end

local failures = tonumber(redis.call('HGET', webhookKey, 'circuit_failures')) or 0
local firstMs = tonumber(redis.call('HGET', webhookKey, 'circuit_first_failure_ms')) or 0
if failures == 0 or nowMs - firstMs > windowMs then
  failures = 0
  redis.call('HSET', webhookKey, 'circuit_first_failure_ms', nowMs)
end
failures = failures + 1
if failures < threshold then
  redis.call('HSET', webhookKey, 'circuit_failures', failures)
  return {'unchanged'}
end
local reason = failures .. ' attempts in a row failed, the last: ' .. lastError
openFor(reason)
return {'opened', reason}
