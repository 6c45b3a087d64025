--[[
  The key layout, as core/store/keys.ts writes it, for the keys a script can
  only name once it has read a record (a stack's status index, its owner).
  test/store-keys.test.ts checks every `...KeyOf` here against keys.ts.
]]
-- A key is its base (the prefix) and its parts, joined by ':' (a nil part is
-- an error, as a key with a part missing would be).
local function keyOf(base, ...)
  local key = base
  for i = 1, select('#', ...) do key = key .. ':' .. select(i, ...) end
  return key
end
-- A stack, and its job history (see history.lua).
local function stackKeyOf(prefix, id) return keyOf(prefix, 'res', id) end
local function historyKeyOf(prefix, stackId) return keyOf(prefix, 'res', stackId, 'jobs') end
local function statusKeyOf(prefix, status) return keyOf(prefix, 'res', 'status', status) end
local function driftKeyOf(prefix, drift) return keyOf(prefix, 'res', 'drift', drift) end
local function forgetKeyOf(prefix) return keyOf(prefix, 'res', 'forget') end
-- A stack's list indexes are kept twice: its template's across projects
-- (scope '', or nil) and its template's within its project (scope: the
-- project), so a list of one project reads one index too.
local function listScopesOf(project)
  return {'', project or 'default'}
end
local function templateScopeOf(prefix, template, scope)
  if scope == nil or scope == '' then return keyOf(prefix, 'tpl', template) end
  return keyOf(prefix, 'prj', scope, 'tpl', template)
end
local function templateIndexKeyOf(prefix, template, scope)
  return keyOf(templateScopeOf(prefix, template, scope), 'index')
end
local function templateStatusKeyOf(prefix, template, status, scope)
  return keyOf(templateScopeOf(prefix, template, scope), 'status', status)
end
local function templateDriftKeyOf(prefix, template, drift, scope)
  return keyOf(templateScopeOf(prefix, template, scope), 'drift', drift)
end
local function templateStatusDriftKeyOf(prefix, template, status, drift, scope)
  return keyOf(templateScopeOf(prefix, template, scope), 'status', status, 'drift', drift)
end
local function projectKeyOf(prefix, project) return keyOf(prefix, 'prj', project) end
-- A project's running jobs, each holding one of its max_running_jobs, and
-- those waiting for one, by when they first asked (see project-slots.lua).
local function projectRunningKeyOf(prefix, project) return keyOf(prefix, 'prj', project, 'running') end
local function projectWaitingKeyOf(prefix, project) return keyOf(prefix, 'prj', project, 'waiting') end
-- The ids of a project's stacks that are not deleted (its quota, and whether it is empty).
local function projectLiveKeyOf(prefix, project) return keyOf(prefix, 'prj', project or 'default', 'live') end
local function projectAuditKeyOf(prefix, project) return keyOf(prefix, 'prj', project, 'audit') end
local function webhookKeyOf(prefix, id) return keyOf(prefix, 'wh', id) end
local function policyKeyOf(prefix, id) return keyOf(prefix, 'pol', id) end
local function jobKeyOf(prefix, id) return keyOf(prefix, 'job', id) end
local function logKeyOf(prefix, jobId) return keyOf(prefix, 'job', jobId, 'log') end
local function ownerLiveKeyOf(prefix, owner) return keyOf(prefix, 'owner', owner, 'live') end
local function metricsKeyOf(prefix) return keyOf(prefix, 'metrics', 'jobs') end
local function outboxKeyOf(prefix) return keyOf(prefix, 'events', 'outbox') end
local function tokenKeyOf(prefix, id) return keyOf(prefix, 'tok', id) end
local function tokenDigestKeyOf(prefix, digestHex) return keyOf(prefix, 'tok', 'digest', digestHex) end
local function auditKeyOf(prefix) return keyOf(prefix, 'audit') end
