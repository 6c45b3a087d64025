--[[
  Writes the record of a new, queued job: the one shape every job starts in.
]]
local function recordNewJob(jobKey, jobId, resourceId, action, maxAttempts, now)
  redis.call('HSET', jobKey, 'id', jobId, 'resource_id', resourceId, 'action', action, 'status', 'queued',
    'attempts', 0, 'max_attempts', maxAttempts, 'progress', '{"completed":0,"total":null}',
    'created_at', now, 'updated_at', now)
end
