--[[
  Discards a planned update, or a job a soft-mandatory policy stopped (see
  includes/discard-planned.lua).

  Input:
    KEYS[1] resource key
    KEYS[2] job key
    KEYS[3] the resource's queue of unfinished jobs

    ARGV[1] key prefix
    ARGV[2] job id
    ARGV[3] now (ISO 8601)
    ARGV[4] the status it ends in: discarded, or cancelled
    ARGV[5] the job's error (JSON), or ''
    ARGV[6] seconds a finished job is kept
    ARGV[7] now (ms)
    ARGV[8] the audit note (JSON, see includes/audit.lua), or ''

  Output:
    {'missing'}
    {'conflict', status}
    {'discarded', nextJobId}   nextJobId is '' when no job waits
]]
local resourceKey = KEYS[1]
local jobKey = KEYS[2]
local opsKey = KEYS[3]

local prefix = ARGV[1]
local jobId = ARGV[2]

--- @include "discard-planned"
--- @include "audit"

local status = redis.call('HGET', jobKey, 'status')
if not status then return {'missing'} end
if status ~= 'planned' and status ~= 'policy_failed' then return {'conflict', status} end
discardPlanned(prefix, resourceKey, jobKey, opsKey, jobId, ARGV[4], ARGV[5], ARGV[3], ARGV[7], ARGV[6])
auditJob(prefix, ARGV[8], resourceKey, jobId)
return {'discarded', redis.call('LINDEX', opsKey, 0) or ''}
