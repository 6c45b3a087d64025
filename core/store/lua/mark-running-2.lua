--[[
  A worker starts an attempt of a job.

  Input: the keys and arguments of includes/job-script.lua;
    ARGV[2] holds:
      jobId  job id
      now    now (ISO 8601)
      nowMs  now (ms)

  Output:
    {'running', attempt}
    {'finished'}           already finished (cancelled before it started, or
                           delivered again after it ended), or its record is
                           gone: it must not run
    {'cancel-requested'}   its cancel was asked for while no worker held it
    {'wait'}               its project runs as many jobs as its quota allows
                           (max_running_jobs): it waits for a slot, in order
]]
--- @include "job-script"
local nowMs = args.nowMs

--- @include "events"

local status = redis.call('HGET', jobKey, 'status')
if status == false or status == 'succeeded' or status == 'failed' or status == 'cancelled' or status == 'discarded' then
  return {'finished'}
end
if redis.call('HGET', jobKey, 'cancel_requested') == '1' then return {'cancel-requested'} end
if not takeSlot(prefix, jobKey, jobId, nowMs) then return {'wait'} end
local attempt = redis.call('HINCRBY', jobKey, 'attempts', 1)
setJobStatus(prefix, stackKey, jobKey, 'running', now)
if redis.call('HEXISTS', jobKey, 'started_at') == 0 then
  redis.call('HSET', jobKey, 'started_at', now, 'started_ms', nowMs)
end
if redis.call('HGET', stackKey, 'job_id') == jobId then
  redis.call('HSET', stackKey, 'job_status', 'running', 'updated_at', now)
end
return {'running', tostring(attempt)}
