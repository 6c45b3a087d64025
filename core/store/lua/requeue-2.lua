--[[
  A running job goes back to the queue: its attempt failed and will be
  retried, or its worker is stopping.

  Input: the keys and arguments of includes/job-script.lua;
    ARGV[2] holds:
      jobId  job id
      now    now (ISO 8601)
      error  the failed attempt's error (JSON), or ''

  Output:
    {'queued'}
]]
--- @include "job-script"
local jobError = args.error

--- @include "events"

setJobStatus(prefix, stackKey, jobKey, 'queued', now, 'error', jobError)
if redis.call('HGET', stackKey, 'job_id') == jobId then
  redis.call('HSET', stackKey, 'job_status', 'queued', 'updated_at', now)
end
return {'queued'}
