--[[
  The outbox: every recorded change of a stack's or a job's status appends
  exactly one event to the events stream, in the script that records the
  change. No change is recorded without its event, and no event describes a
  change that was not recorded. An entry holds what the event's `data` is
  made from (the stack and the job as the change left them); core/events/
  makes the CloudEvent of it. The stack's `event_seq` numbers its events
  (the CloudEvent's `sequence`), its jobs' included.
]]
--- @include "keys"
--- @include "project-slots"

-- The stack's `tags` input, if it has one that is a map of strings.
local function tagsOf(inputs)
  local tags = {}
  local ok, decoded = pcall(cjson.decode, inputs or '{}')
  if ok and type(decoded) == 'table' and type(decoded.tags) == 'table' then
    for key, value in pairs(decoded.tags) do
      if type(key) == 'string' and type(value) == 'string' then tags[key] = value end
    end
  end
  return tags
end

local function appendEvent(prefix, stackKey, eventType, jobId, now)
  local stack = redis.call('HMGET', stackKey, 'id', 'status', 'template', 'template_version', 'inputs', 'project')
  local job = cjson.null
  if jobId and jobId ~= '' then
    local record = redis.call('HMGET', jobKeyOf(prefix, jobId), 'action', 'status', 'policy')
    job = {id = jobId, action = record[1], status = record[2]}
    -- The verdict of the policies on its plan, without the override's reason.
    if record[3] then
      local policy = cjson.decode(record[3])
      job.policy = {status = policy.status, results = policy.results}
    end
  end
  local data = {
    stack = {id = stack[1], project = stack[6] or 'default', status = stack[2],
      template = {name = stack[3], version = stack[4] or ''}, tags = tagsOf(stack[5])},
    job = job,
  }
  local sequence = redis.call('HINCRBY', stackKey, 'event_seq', 1)
  redis.call('XADD', outboxKeyOf(prefix), '*', 'type', eventType, 'subject', stack[1], 'sequence', sequence,
    'time', now, 'data', cjson.encode(data))
end

-- The stack's status changed: `io.tfcompute.stack.{status}`, with its current job.
local function stackEvent(prefix, stackKey, now)
  local stack = redis.call('HMGET', stackKey, 'status', 'job_id')
  appendEvent(prefix, stackKey, 'io.tfcompute.stack.' .. stack[1], stack[2], now)
end

-- The stack was found drifted (it was not, or not known, before).
local function driftedEvent(prefix, stackKey, jobId, now)
  appendEvent(prefix, stackKey, 'io.tfcompute.stack.drifted', jobId, now)
end

-- The job's status changed: `io.tfcompute.job.{status}`.
local function jobEvent(prefix, stackKey, jobKey, now)
  local job = redis.call('HMGET', jobKey, 'id', 'status')
  appendEvent(prefix, stackKey, 'io.tfcompute.job.' .. job[2], job[1], now)
end

-- Sets a job's status (and `...`, more field-value pairs) and records its event.
local function setJobStatus(prefix, stackKey, jobKey, status, now, ...)
  if status ~= 'running' then giveSlot(prefix, jobKey, redis.call('HGET', jobKey, 'id')) end
  redis.call('HSET', jobKey, 'status', status, 'updated_at', now, ...)
  jobEvent(prefix, stackKey, jobKey, now)
end
