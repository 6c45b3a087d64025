--[[
  Requests a resource's delete. While a delete is queued or running, or once
  the resource is deleted, nothing changes and that delete's job is named. A
  create that has never started (first attempt still queued, not a retry)
  cannot have made anything: it is cancelled and the resource is deleted at
  once, with a delete job that succeeds without running Terraform (and its
  record retired: see retire-deleted). An update whose plan awaits approval, or a job stopped by a
  soft-mandatory policy, is discarded, and the delete queued after it.

  Input:
    KEYS[1] resource key
    KEYS[2] the new delete job's key
    KEYS[3] the resource's queue of unfinished jobs

    ARGV[1] key prefix
    ARGV[2] the new delete job's id
    ARGV[3] now (ISO 8601)
    ARGV[4] max attempts
    ARGV[5] seconds a finished job is kept
    ARGV[6] the cancelled create's error (JSON)
    ARGV[7] the delete job's empty result (JSON)
    ARGV[8] now (ms)
    ARGV[9] the version of the template the delete job runs
    ARGV[10] the discarded update's error (JSON)
    ARGV[11] the audit note (JSON, see includes/audit.lua), or ''

  Output:
    {'missing'}
    {'existing', jobId}           a delete is already queued or running
    {'deleted', jobId}            the resource was deleted by this job
    {'cancelled', jobId, createJobId}
    {'created', jobId, discardedJobId}   discardedJobId is '' when none was
]]
local resourceKey = KEYS[1]
local jobKey = KEYS[2]
local opsKey = KEYS[3]

local prefix = ARGV[1]
local jobId = ARGV[2]
local now = ARGV[3]
local maxAttempts = ARGV[4]
local retentionSeconds = ARGV[5]
local cancelledError = ARGV[6]
local emptyResult = ARGV[7]
local nowMs = ARGV[8]
local templateVersion = ARGV[9]
local discardedError = ARGV[10]

--- @include "keys"
--- @include "move-status"
--- @include "observe-duration"
--- @include "new-job"
--- @include "queue-job"
--- @include "discard-planned"
--- @include "retire-deleted"
--- @include "audit"

local status = redis.call('HGET', resourceKey, 'status')
if not status then return {'missing'} end
if status == 'deleting' then return {'existing', redis.call('HGET', resourceKey, 'job_id')} end
if status == 'deleted' then return {'deleted', redis.call('HGET', resourceKey, 'job_id')} end

local resourceId = redis.call('HGET', resourceKey, 'id')
local template = redis.call('HGET', resourceKey, 'template')
local currentId = redis.call('HGET', resourceKey, 'job_id')
local currentKey = jobKeyOf(prefix, currentId)
local current = redis.call('HMGET', currentKey, 'action', 'status', 'attempts', 'retry')
local neverStarted = current[1] == 'create' and current[2] == 'queued' and current[3] == '0' and current[4] ~= '1'
if status == 'creating' and neverStarted then
  setJobStatus(prefix, resourceKey, currentKey, 'cancelled', now, 'finished_at', now, 'error', cancelledError)
  redis.call('EXPIRE', currentKey, retentionSeconds)
  observeDuration(prefix, currentKey, 'cancelled', nowMs)
  redis.call('LREM', opsKey, 0, currentId)
  recordNewJob(prefix, resourceKey, jobKey, jobId, resourceId, 'delete', template, templateVersion, maxAttempts, now, nowMs, auditActorOf(ARGV[11]), 'succeeded')
  redis.call('HSET', jobKey, 'progress', '{"completed":0,"total":0}',
    'started_at', now, 'finished_at', now, 'result', emptyResult)
  redis.call('EXPIRE', jobKey, retentionSeconds)
  redis.call('SET', logKeyOf(prefix, jobId),
    'The create job ' .. currentId .. ' had not started; it was cancelled, and there is nothing to destroy.\n',
    'EX', retentionSeconds)
  setResourceStatus(prefix, resourceKey, 'deleted', now, 'job_id', jobId, 'job_action', 'delete', 'job_status', 'succeeded',
    'error', '', 'outputs', '{}')
  retireDeleted(prefix, resourceKey, retentionSeconds, nowMs)
  settleHistory(prefix, resourceId, opsKey, nowMs, retentionSeconds)
  auditStack(prefix, ARGV[11], resourceKey)
  return {'cancelled', jobId, currentId}
end

-- A failed update is retried only while it is the stack's last job: after a
-- delete it never is, and its sealed inputs go.
if current[1] == 'update' and current[2] == 'failed' then redis.call('HDEL', currentKey, 'new_secrets') end
local discarded = ''
if current[2] == 'planned' or current[2] == 'policy_failed' then
  discardPlanned(prefix, resourceKey, currentKey, opsKey, currentId, 'discarded', discardedError, now, nowMs, retentionSeconds)
  discarded = currentId
end
local before = redis.call('HGET', resourceKey, 'status')
queueJob(prefix, resourceKey, opsKey, jobKey, jobId, 'delete', 'deleting', templateVersion, maxAttempts, now, nowMs, auditActorOf(ARGV[11]))
-- Where the stack waits should a soft-mandatory policy stop the delete.
redis.call('HSET', jobKey, 'status_before', before)
auditStack(prefix, ARGV[11], resourceKey)
return {'created', jobId, discarded}
