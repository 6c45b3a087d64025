--[[
  Requests a stack's delete. While a delete is queued or running, or once
  the stack is deleted, nothing changes and that delete's job is named. A
  create that has never started (first attempt still queued, not a retry)
  cannot have made anything: it is cancelled and the stack is deleted at
  once, with a delete job that succeeds without running Terraform (and its
  record retired: see retire-deleted). An update whose plan awaits approval, or a job stopped by a
  soft-mandatory policy, is discarded, and the delete queued after it.

  Input: the keys and arguments of includes/job-script.lua (KEYS[2]: the new delete job's);
    ARGV[2] holds those requestedJob reads (includes/new-job.lua), and:
      retentionSeconds  seconds a finished job is kept
      cancelledError    the cancelled create's error (JSON)
      emptyResult       the delete job's empty result (JSON)
      discardedError    the discarded update's error (JSON)

  Output:
    {'missing'}
    {'existing', jobId}           a delete is already queued or running
    {'deleted', jobId}            the stack was deleted by this job
    {'cancelled', jobId, createJobId}
    {'created', jobId, discardedJobId}   discardedJobId is '' when none was
]]
--- @include "job-script"
local nowMs, retentionSeconds = args.nowMs, args.retentionSeconds

--- @include "keys"
--- @include "move-status"
--- @include "observe-duration"
--- @include "new-job"
--- @include "queue-job"
--- @include "discard-planned"
--- @include "retire-deleted"
--- @include "audit"

local status = redis.call('HGET', stackKey, 'status')
if not status then return {'missing'} end
if status == 'deleting' then return {'existing', redis.call('HGET', stackKey, 'job_id')} end
if status == 'deleted' then return {'deleted', redis.call('HGET', stackKey, 'job_id')} end

local stackId = redis.call('HGET', stackKey, 'id')
local template = redis.call('HGET', stackKey, 'template')
local currentId = redis.call('HGET', stackKey, 'job_id')
local currentKey = jobKeyOf(prefix, currentId)
local current = redis.call('HMGET', currentKey, 'action', 'status', 'attempts', 'retry')
local neverStarted = current[1] == 'create' and current[2] == 'queued' and current[3] == '0' and current[4] ~= '1'
if status == 'creating' and neverStarted then
  setJobStatus(prefix, stackKey, currentKey, 'cancelled', now, 'finished_at', now, 'error', args.cancelledError)
  redis.call('EXPIRE', currentKey, retentionSeconds)
  observeDuration(prefix, currentKey, 'cancelled', nowMs)
  redis.call('LREM', opsKey, 0, currentId)
  local job = requestedJob(args, 'delete', stackId, template)
  job.status = 'succeeded'
  recordNewJob(prefix, stackKey, jobKey, job)
  redis.call('HSET', jobKey, 'progress', '{"completed":0,"total":0}',
    'started_at', now, 'finished_at', now, 'result', args.emptyResult)
  redis.call('EXPIRE', jobKey, retentionSeconds)
  redis.call('SET', logKeyOf(prefix, jobId),
    'The create job ' .. currentId .. ' had not started; it was cancelled, and there is nothing to destroy.\n',
    'EX', retentionSeconds)
  setStackStatus(prefix, stackKey, 'deleted', now, 'job_id', jobId, 'job_action', 'delete',
    'job_status', 'succeeded', 'error', '', 'outputs', '{}')
  retireDeleted(prefix, stackKey, retentionSeconds, nowMs)
  settleHistory(prefix, stackId, opsKey, nowMs, retentionSeconds)
  auditStack(prefix, args.audit, stackKey)
  return {'cancelled', jobId, currentId}
end

-- A failed update is retried only while it is the stack's last job: after a
-- delete it never is, and its sealed inputs go.
if current[1] == 'update' and current[2] == 'failed' then redis.call('HDEL', currentKey, 'new_secrets') end
local discarded = ''
if current[2] == 'planned' or current[2] == 'policy_failed' then
  local ending = {status = 'discarded', error = args.discardedError, now = now, nowMs = nowMs,
    retentionSeconds = retentionSeconds}
  discardPlanned(prefix, stackKey, currentKey, opsKey, currentId, ending)
  discarded = currentId
end
local before = redis.call('HGET', stackKey, 'status')
queueJob(prefix, stackKey, opsKey, jobKey, requestedJob(args, 'delete'), 'deleting')
-- Where the stack waits should a soft-mandatory policy stop the delete.
redis.call('HSET', jobKey, 'status_before', before)
auditStack(prefix, args.audit, stackKey)
return {'created', jobId, discarded}
