--[[
  Queues a speculative plan of a resource: a job that runs `terraform plan`
  with the stack's inputs and changes nothing. It joins the resource's queue
  (so it never overlaps another job on the stack) but is not the resource's
  current job: the resource's status and job are left as they are. Only a
  stack with a state to plan against can be planned: a `ready` one.

  Input:
    KEYS[1] resource key
    KEYS[2] the new plan job's key
    KEYS[3] the resource's queue of unfinished jobs

    ARGV[1] key prefix
    ARGV[2] the new plan job's id
    ARGV[3] now (ISO 8601)
    ARGV[4] max attempts
    ARGV[5] the version of the template the plan runs

  Output:
    {'missing'}
    {'conflict', status}
    {'created', jobId}
]]
local resourceKey = KEYS[1]
local jobKey = KEYS[2]
local opsKey = KEYS[3]

local jobId = ARGV[2]
local now = ARGV[3]
local maxAttempts = ARGV[4]
local templateVersion = ARGV[5]

--- @include "new-job"

local record = redis.call('HMGET', resourceKey, 'status', 'id', 'template')
local status = record[1]
if not status then return {'missing'} end
if status ~= 'ready' then return {'conflict', status} end
recordNewJob(jobKey, jobId, record[2], 'plan', record[3] or 'ec2instance', templateVersion, maxAttempts, now)
redis.call('RPUSH', opsKey, jobId)
return {'created', jobId}
