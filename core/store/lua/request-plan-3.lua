--[[
  Queues a speculative plan of a stack: a job that runs `terraform plan`
  with the stack's inputs and changes nothing. It joins the stack's queue
  (so it never overlaps another job on the stack) but is not the stack's
  current job: the stack's status and job are left as they are. Only a
  stack with a state to plan against can be planned: a `ready` one.

  At most one plan waits per stack: while one is queued (not yet running),
  another request is answered with it, so a client repeating the request
  cannot fill the queue. A drift check is a plan like any other.

  A scheduled drift check asks only for an idle stack (it never waits behind,
  or holds up, a user's job for long), and may be asked again after its
  worker died: its job is then already recorded.

  Input: the keys and arguments of includes/job-script.lua (KEYS[2]: the new plan job's);
    ARGV[2] holds those requestedJob reads (includes/new-job.lua), and:
      onlyIfIdle       true for a drift check: only of an idle stack

  Output:
    {'missing'}
    {'conflict', status}
    {'created', jobId}
    {'queued', jobId}   a plan of the stack is already queued: that one
    {'busy'}            (a drift check) the stack has unfinished jobs
    {'exists', headId}  (a drift check) the job is already recorded; headId is
                        the stack's oldest unfinished job, or ''
]]
--- @include "job-script"
local onlyIfIdle = args.onlyIfIdle == true

--- @include "keys"
--- @include "new-job"
--- @include "audit"
--- @include "policy-wait"

local record = redis.call('HMGET', stackKey, 'status', 'id', 'template')
local status = record[1]
if not status then return {'missing'} end
if onlyIfIdle and redis.call('EXISTS', jobKey) == 1 then return {'exists', redis.call('LINDEX', opsKey, 0) or ''} end
if status ~= 'ready' then return {'conflict', status} end
if onlyIfIdle and redis.call('LLEN', opsKey) > 0 then return {'busy'} end
local waiting = policyWait(stackKey, status)
if waiting then return {'conflict', waiting} end
-- Short: a stack has at most one update or delete, one plan running and one queued.
for _, pendingId in ipairs(redis.call('LRANGE', opsKey, 0, -1)) do
  local pending = redis.call('HMGET', jobKeyOf(prefix, pendingId), 'action', 'status')
  if pending[1] == 'plan' and pending[2] == 'queued' then return {'queued', pendingId} end
end
recordNewJob(prefix, stackKey, jobKey, requestedJob(args, 'plan', record[2], record[3]))
redis.call('RPUSH', opsKey, jobId)
auditStack(prefix, args.audit, stackKey)
return {'created', jobId}
