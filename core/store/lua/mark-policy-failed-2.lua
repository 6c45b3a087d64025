--[[
  A soft-mandatory policy failed on a job's plan, which is saved: the job
  waits, `policy_failed`, for an override or a discard, and stays at the
  head of its stack's queue so nothing else runs on the stack meanwhile.
  The stack shows the status it had before the job (an update's, a
  delete's), or stays `creating` (a create's: there was none); a discard
  returns it there, and a discarded create leaves it `failed`.

  Input: the keys and arguments of includes/job-script.lua;
    ARGV[2] holds:
      jobId   job id
      now     now (ISO 8601)
      plan    the plan (JSON)
      policy  the policy results (JSON)

  Output:
    {'policy_failed'}
    {'not-running', status}   cancelled or finished meanwhile
]]
--- @include "job-script"

--- @include "move-status"

local job = redis.call('HMGET', jobKey, 'status', 'action', 'previous_status', 'status_before')
if job[1] ~= 'running' then return {'not-running', job[1] or ''} end
-- Where a discard leaves the stack (see includes/discard-planned.lua).
if job[2] == 'create' then redis.call('HSET', jobKey, 'previous_status', 'failed') end
if job[2] == 'delete' then
  job[3] = job[4] or 'ready'
  redis.call('HSET', jobKey, 'previous_status', job[3])
end
setJobStatus(prefix, stackKey, jobKey, 'policy_failed', now, 'plan', args.plan, 'policy', args.policy)
if redis.call('HGET', stackKey, 'job_id') == jobId then
  if job[2] ~= 'create' and job[3] then
    setStackStatus(prefix, stackKey, job[3], now, 'job_status', 'policy_failed')
  else
    redis.call('HSET', stackKey, 'job_status', 'policy_failed', 'updated_at', now)
  end
end
return {'policy_failed'}
