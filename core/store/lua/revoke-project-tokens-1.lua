--[[
  Revokes every token of a project, for when the project is deleted: a
  project made again later under the same name must not find its
  predecessor's tokens working.

  Input:
    KEYS[1] the project's token names

    ARGV[1] key prefix
    ARGV[2] the arguments (JSON): none

  Output:
    {'revoked', count}   count: the live tokens revoked
]]
--- @include "keys"

local namesKey = KEYS[1]

local prefix = ARGV[1]

local count = 0
local names = redis.call('HGETALL', namesKey)
for i = 2, #names, 2 do
  local tokenKey = tokenKeyOf(prefix, names[i])
  local digest = redis.call('HGET', tokenKey, 'digest')
  if digest then
    redis.call('DEL', tokenKey, tokenDigestKeyOf(prefix, digest))
    count = count + 1
  end
end
redis.call('DEL', namesKey)
return {'revoked', tostring(count)}
