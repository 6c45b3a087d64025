--[[
  Writes the record of a new job: the one shape every job starts in, queued
  (or, for a job that has nothing to run, `status` at once), and its event.
  `template` and `templateVersion` name the template the job runs; the job
  belongs to its stack's project, and joins the stack's history.
  `createdBy`: the name of the principal who asked for it, or '' for a job
  tfcompute starts itself (a drift check, a stack's ttl).
]]
--- @include "events"
--- @include "history"
local function recordNewJob(prefix, resourceKey, jobKey, jobId, resourceId, action, template, templateVersion, maxAttempts, now, nowMs, createdBy, status)
  redis.call('HSET', jobKey, 'id', jobId, 'resource_id', resourceId, 'action', action, 'status', status or 'queued',
    'template', template, 'template_version', templateVersion,
    'attempts', 0, 'max_attempts', maxAttempts, 'progress', '{"completed":0,"total":null}',
    'created_at', now, 'updated_at', now, 'project', redis.call('HGET', resourceKey, 'project') or 'default')
  if createdBy and createdBy ~= '' then redis.call('HSET', jobKey, 'created_by', createdBy) end
  addToHistory(prefix, resourceId, jobId, nowMs)
  jobEvent(prefix, resourceKey, jobKey, now)
end
