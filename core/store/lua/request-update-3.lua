--[[
  Requests a stack's update: an `update` job, queued behind the stack's other
  jobs, that plans the new inputs and applies them (at once with auto-apply,
  after approval otherwise). The stack keeps its inputs until the update
  succeeds; the job holds the new ones until then. Only a `ready` or
  `update_failed` stack can be updated.

  Input: the keys and arguments of includes/job-script.lua (KEYS[2]: the new update job's);
    ARGV[2] holds those requestedJob reads (includes/new-job.lua), and:
      inputs           the inputs the stack will show (JSON)
      setInputs        the names of the inputs the caller set (JSON)
      secrets          the sensitive inputs, sealed, or ''
      autoApply        '1' to apply without approval, '0'

  Output:
    {'missing'}
    {'conflict', status}   not ready or update_failed, or its job waits for a policy override
    {'created', jobId}
]]
--- @include "job-script"

--- @include "queue-job"
--- @include "audit"
--- @include "policy-wait"

local status, refusal = requestableStatus(stackKey, {ready = true, update_failed = true})
if refusal then return refusal end
local waiting = policyWait(stackKey, status)
if waiting then return {'conflict', waiting} end
queueJob(prefix, stackKey, opsKey, jobKey, requestedJob(args, 'update'), 'updating')
redis.call('HSET', jobKey, 'new_inputs', args.inputs, 'new_set_inputs', args.setInputs,
  'new_secrets', args.secrets, 'auto_apply', args.autoApply, 'previous_status', status)
auditStack(prefix, args.audit, stackKey)
return {'created', jobId}
