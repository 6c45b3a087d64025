--[[
  Re-queues the create of a stack whose create failed, in the workspace
  that create left, with the template as served now: the stack takes that
  version, and the inputs it shows with that version's defaults. Any other
  status is returned as it is.

  Input: the keys and arguments of includes/job-script.lua (KEYS[2]: the new create job's);
    ARGV[2] holds those requestedJob reads (includes/new-job.lua), and:
      inputs           the inputs the stack shows with that version (JSON)

  Output:
    {'missing'}
    {'conflict', status}   the stack is not failed
    {'created', jobId}
]]
--- @include "job-script"

--- @include "queue-job"
--- @include "audit"

local _, refusal = requestableStatus(stackKey, {failed = true})
if refusal then return refusal end
redis.call('HSET', stackKey, 'template_version', args.templateVersion, 'inputs', args.inputs)
queueJob(prefix, stackKey, opsKey, jobKey, requestedJob(args, 'create'), 'creating')
-- The retry runs in the workspace the failed create made: no adoption check.
redis.call('HSET', jobKey, 'retry', '1')
auditStack(prefix, args.audit, stackKey)
return {'created', jobId}
