--[[
  The key layout, as core/store/keys.ts writes it, for the keys a script can
  only name once it has read a record (a resource's status index, its owner).
]]
local function resourceKeyOf(prefix, id)
  return prefix .. ':res:' .. id
end
local function statusKeyOf(prefix, status)
  return prefix .. ':res:status:' .. status
end
local function templateIndexKeyOf(prefix, template)
  return prefix .. ':tpl:' .. template .. ':index'
end
local function templateStatusKeyOf(prefix, template, status)
  return prefix .. ':tpl:' .. template .. ':status:' .. status
end
local function jobKeyOf(prefix, id)
  return prefix .. ':job:' .. id
end
local function logKeyOf(prefix, jobId)
  return prefix .. ':job:' .. jobId .. ':log'
end
local function ownerLiveKeyOf(prefix, owner)
  return prefix .. ':owner:' .. owner .. ':live'
end
local function metricsKeyOf(prefix)
  return prefix .. ':metrics:jobs'
end
local function driftKeyOf(prefix, drift)
  return prefix .. ':res:drift:' .. drift
end
local function templateDriftKeyOf(prefix, template, drift)
  return prefix .. ':tpl:' .. template .. ':drift:' .. drift
end
local function templateStatusDriftKeyOf(prefix, template, status, drift)
  return prefix .. ':tpl:' .. template .. ':status:' .. status .. ':drift:' .. drift
end
local function forgetKeyOf(prefix)
  return prefix .. ':res:forget'
end
local function outboxKeyOf(prefix)
  return prefix .. ':events:outbox'
end
local function tokenKeyOf(prefix, id)
  return prefix .. ':tok:' .. id
end
local function tokenDigestKeyOf(prefix, digestHex)
  return prefix .. ':tok:digest:' .. digestHex
end
