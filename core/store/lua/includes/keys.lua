--[[
  The key layout, as core/store/keys.ts writes it, for the keys a script can
  only name once it has read a record (a stack's status index, its owner).
  test/store-keys.test.ts checks every `...KeyOf` here against keys.ts.
]]
local function stackKeyOf(prefix, id)
  return prefix .. ':res:' .. id
end
-- A stack's job history (see history.lua).
local function historyKeyOf(prefix, stackId)
  return prefix .. ':res:' .. stackId .. ':jobs'
end
local function statusKeyOf(prefix, status)
  return prefix .. ':res:status:' .. status
end
-- A stack's list indexes are kept twice: its template's across projects
-- (scope '', or nil) and its template's within its project (scope: the
-- project), so a list of one project reads one index too.
local function listScopesOf(project)
  return {'', project or 'default'}
end
local function templateScopeOf(prefix, template, scope)
  if scope == nil or scope == '' then return prefix .. ':tpl:' .. template end
  return prefix .. ':prj:' .. scope .. ':tpl:' .. template
end
local function templateIndexKeyOf(prefix, template, scope)
  return templateScopeOf(prefix, template, scope) .. ':index'
end
local function templateStatusKeyOf(prefix, template, status, scope)
  return templateScopeOf(prefix, template, scope) .. ':status:' .. status
end
local function projectKeyOf(prefix, project)
  return prefix .. ':prj:' .. project
end
-- A project's running jobs, each holding one of its max_running_jobs, and
-- those waiting for one, by when they first asked (see project-slots.lua).
local function projectRunningKeyOf(prefix, project)
  return prefix .. ':prj:' .. project .. ':running'
end
local function projectWaitingKeyOf(prefix, project)
  return prefix .. ':prj:' .. project .. ':waiting'
end
-- The ids of a project's stacks that are not deleted (its quota, and whether it is empty).
local function projectLiveKeyOf(prefix, project)
  return prefix .. ':prj:' .. (project or 'default') .. ':live'
end
local function webhookKeyOf(prefix, id)
  return prefix .. ':wh:' .. id
end
local function policyKeyOf(prefix, id)
  return prefix .. ':pol:' .. id
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
local function templateDriftKeyOf(prefix, template, drift, scope)
  return templateScopeOf(prefix, template, scope) .. ':drift:' .. drift
end
local function templateStatusDriftKeyOf(prefix, template, status, drift, scope)
  return templateScopeOf(prefix, template, scope) .. ':status:' .. status .. ':drift:' .. drift
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
local function auditKeyOf(prefix)
  return prefix .. ':audit'
end
local function projectAuditKeyOf(prefix, project)
  return prefix .. ':prj:' .. project .. ':audit'
end
