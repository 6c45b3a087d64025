--[[
  Changes fields of a webhook that exists (a webhook deleted meanwhile is
  not made again, half).

  Input:
    KEYS[1] webhook key

    ARGV[1] key prefix
    ARGV[2..] field, value, field, value, ...

  Output:
    {'updated'}
    {'missing'}
]]
local webhookKey = KEYS[1]

if redis.call('EXISTS', webhookKey) == 0 then return {'missing'} end
redis.call('HSET', webhookKey, unpack(ARGV, 2))
return {'updated'}
