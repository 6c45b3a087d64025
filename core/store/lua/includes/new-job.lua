--[[
  Writes the record of a new job: the one shape every job starts in, queued
  (or, for a job that has nothing to run, `status` at once), and its event.
  `template` and `templateVersion` name the template the job runs; the job
  belongs to its stack's project.
]]
--- @include "events"
local function recordNewJob(prefix, resourceKey, jobKey, jobId, resourceId, action, template, templateVersion, maxAttempts, now, status)
  redis.call('HSET', jobKey, 'id', jobId, 'resource_id', resourceId, 'action', action, 'status', status or 'queued',
    'template', template, 'template_version', templateVersion,
    'attempts', 0, 'max_attempts', maxAttempts, 'progress', '{"completed":0,"total":null}',
    'created_at', now, 'updated_at', now, 'project', redis.call('HGET', resourceKey, 'project') or 'default')
  jobEvent(prefix, resourceKey, jobKey, now)
end
