--[[
  An Idempotency-Key's value is "{stackId} {fingerprint}".
]]
local function splitIdempotencyValue(value)
  local space = string.find(value, ' ', 1, true)
  return string.sub(value, 1, space - 1), string.sub(value, space + 1)
end
