--[[
  The live tokens of a project, in one round trip. Names whose tokens have
  expired are dropped from the project's names here, in the same step that
  sees them gone (a create may have taken the name meanwhile otherwise).

  Input:
    KEYS[1] the project's token names

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON): none

  Output:
    {'tokens', fields of the first token..., fields of the second..., ...}
    (each token: id, project, name, role, created_by, created_ms, expires_ms, last_used_ms)
]]
--- @include "keys"
--- @include "token-fields"

local namesKey = KEYS[1]

local prefix = ARGV[1]

local reply = {'tokens'}
local names = redis.call('HGETALL', namesKey)
for i = 1, #names, 2 do
  local record = tokenRecord(tokenKeyOf(prefix, names[i + 1]))
  if record then
    for _, value in ipairs(record) do reply[#reply + 1] = value end
  else
    redis.call('HDEL', namesKey, names[i])
  end
end
return reply
