--[[
  A token record's fields in the order every token script answers with them
  (core/store/tokens.ts reads them in this order).
]]
local TOKEN_FIELDS = {'id', 'project', 'name', 'role', 'created_by', 'created_ms', 'expires_ms', 'last_used_ms'}

-- The record's fields, or nil when there is none.
local function tokenRecord(tokenKey)
  local values = redis.call('HMGET', tokenKey, unpack(TOKEN_FIELDS))
  if not values[1] then return nil end
  for i = 1, #TOKEN_FIELDS do values[i] = values[i] or '' end
  return values
end
