--[[
  A running job goes back to the queue: its attempt failed and will be
  retried, or its worker is stopping.

  Input:
    KEYS[1] resource key
    KEYS[2] job key

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] now (ISO 8601)
    ARGV[4] the failed attempt's error (JSON), or ''

  Output:
    {'queued'}
]]
local resourceKey = KEYS[1]
local jobKey = KEYS[2]

local prefix = ARGV[1]
local jobId = ARGV[2]
local now = ARGV[3]
local jobError = ARGV[4]

--- @include "events"

setJobStatus(prefix, resourceKey, jobKey, 'queued', now, 'error', jobError)
if redis.call('HGET', resourceKey, 'job_id') == jobId then
  redis.call('HSET', resourceKey, 'job_status', 'queued', 'updated_at', now)
end
return {'queued'}
