--[[
  Writes the record of a new, queued job: the one shape every job starts in.
  `template` and `templateVersion` name the template the job runs.
]]
local function recordNewJob(jobKey, jobId, resourceId, action, template, templateVersion, maxAttempts, now)
  redis.call('HSET', jobKey, 'id', jobId, 'resource_id', resourceId, 'action', action, 'status', 'queued',
    'template', template, 'template_version', templateVersion,
    'attempts', 0, 'max_attempts', maxAttempts, 'progress', '{"completed":0,"total":null}',
    'created_at', now, 'updated_at', now)
end
