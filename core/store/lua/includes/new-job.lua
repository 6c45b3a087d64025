--[[
  Writes the record of a new job: the one shape every job starts in, queued
  (or, for a job that has nothing to run, `job.status` at once), and its
  event. `job`: {id, stackId, action, template, templateVersion,
  maxAttempts, now, nowMs, createdBy, status}; `template` and
  `templateVersion` name the template the job runs; the job belongs to its
  stack's project, and joins the stack's history. `createdBy`: the name of
  the principal who asked for it, or '' for a job tfcompute starts itself (a
  drift check, a stack's ttl).
]]
--- @include "events"
--- @include "history"
local function recordNewJob(prefix, stackKey, jobKey, job)
  redis.call('HSET', jobKey, 'id', job.id, 'resource_id', job.stackId, 'action', job.action,
    'status', job.status or 'queued', 'template', job.template, 'template_version', job.templateVersion,
    'attempts', 0, 'max_attempts', job.maxAttempts, 'progress', '{"completed":0,"total":null}',
    'created_at', job.now, 'updated_at', job.now, 'project', redis.call('HGET', stackKey, 'project') or 'default')
  if job.createdBy and job.createdBy ~= '' then redis.call('HSET', jobKey, 'created_by', job.createdBy) end
  addToHistory(prefix, job.stackId, job.id, job.nowMs)
  jobEvent(prefix, stackKey, jobKey, job.now)
end

-- The new job a script's packed arguments ask for (see job-script.lua):
-- `action` of the stack's template at `args.templateVersion`, asked for by
-- the note's actor. The arguments of every request-* script (NewJob in
-- core/store/script-args.ts) that it reads:
--   jobId            the new job's id
--   now              now (ISO 8601)
--   nowMs            now (ms)
--   maxAttempts      max attempts
--   templateVersion  the version of the template the job runs
--   audit            the audit note (see audit.lua), or none
local function requestedJob(args, action, stackId, template)
  return {id = args.jobId, stackId = stackId, action = action, template = template,
    templateVersion = args.templateVersion, maxAttempts = args.maxAttempts, now = args.now, nowMs = args.nowMs,
    createdBy = args.audit and args.audit.actor.name or ''}
end
