--[[
  Discards a planned update, or a job a soft-mandatory policy stopped (see
  includes/discard-planned.lua).

  Input: the keys and arguments of includes/job-script.lua;
    ARGV[2] holds:
      jobId             job id
      now               now (ISO 8601)
      nowMs             now (ms)
      status            the status it ends in: discarded, or cancelled
      error             the job's error (JSON), or ''
      retentionSeconds  seconds a finished job is kept
      audit             the audit note (see includes/audit.lua), or none

  Output:
    {'missing'}
    {'conflict', status}
    {'discarded', nextJobId}   nextJobId is '' when no job waits
]]
--- @include "job-script"

--- @include "discard-planned"
--- @include "audit"

local status = redis.call('HGET', jobKey, 'status')
if not status then return {'missing'} end
if status ~= 'planned' and status ~= 'policy_failed' then return {'conflict', status} end
discardPlanned(prefix, stackKey, jobKey, opsKey, jobId, args)
auditJob(prefix, args.audit, stackKey, jobId)
return {'discarded', redis.call('LINDEX', opsKey, 0) or ''}
