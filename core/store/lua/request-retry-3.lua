--[[
  Re-queues the create of a stack whose create failed, in the workspace
  that create left, with the template as served now: the stack takes that
  version, and the inputs it shows with that version's defaults. Any other
  status is returned as it is.

  Input: the keys and arguments of includes/job-script.lua (KEYS[2]: the new create job's);
    ARGV[2] holds:
      jobId            the new create job's id
      now              now (ISO 8601)
      nowMs            now (ms)
      maxAttempts      max attempts
      templateVersion  the version of the template the retry runs
      inputs           the inputs the stack shows with that version (JSON)
      audit            the audit note (see includes/audit.lua), or none

  Output:
    {'missing'}
    {'conflict', status}
    {'created', jobId}
]]
--- @include "job-script"

--- @include "queue-job"
--- @include "audit"

local status = redis.call('HGET', stackKey, 'status')
if not status then return {'missing'} end
if status ~= 'failed' then return {'conflict', status} end
redis.call('HSET', stackKey, 'template_version', args.templateVersion, 'inputs', args.inputs)
queueJob(prefix, stackKey, opsKey, jobKey, requestedJob(args, 'create'), 'creating')
-- The retry runs in the workspace the failed create made: no adoption check.
redis.call('HSET', jobKey, 'retry', '1')
auditStack(prefix, args.audit, stackKey)
return {'created', jobId}
