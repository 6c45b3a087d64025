--[[
  An update's plan is made and saved: the job waits, `planned`, for approval
  or discard, and stays at the head of its stack's queue so nothing else
  runs on the stack meanwhile.

  Input: the keys and arguments of includes/job-script.lua;
    ARGV[2] holds:
      jobId  job id
      now    now (ISO 8601)
      plan   the plan (JSON)

  Output:
    {'planned'}
    {'not-running', status}   cancelled or finished meanwhile
]]
--- @include "job-script"

--- @include "events"

local status = redis.call('HGET', jobKey, 'status')
if status ~= 'running' then return {'not-running', status or ''} end
setJobStatus(prefix, stackKey, jobKey, 'planned', now, 'plan', args.plan)
if redis.call('HGET', stackKey, 'job_id') == jobId then
  redis.call('HSET', stackKey, 'job_status', 'planned', 'updated_at', now)
end
return {'planned'}
