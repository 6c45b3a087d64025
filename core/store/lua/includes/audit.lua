--[[
  The audit log: a change a user asked for appends one entry, in the script
  that makes the change, and only when it makes it (a refusal appends
  nothing). Every entry goes to the installation's stream, which owners
  read; one of a project goes to the project's stream too, which its admins
  read (project '*': the installation's own, such as an every-project
  webhook's).

  `audit` is the note the caller makes (auditRecord in core/store/audit.ts),
  a field of a script's packed arguments: {id, at, actor: {kind, name},
  action, request_id, min_ms, keep_ms}; nil for a change no user asked for
  (a worker's, a ttl's): no entry then.
  Streams are trimmed to the retention period (min_ms) as they grow, before
  the entry is added (so never past it), and expire once nothing was added
  for as long.
]]
--- @include "keys"

local function appendAudit(prefix, note, project, targetType, targetId)
  if not note then return end
  local fields = {'id', note.id, 'at', note.at, 'project', project, 'actor_kind', note.actor.kind,
    'actor_name', note.actor.name, 'action', note.action, 'target_type', targetType, 'target_id', targetId or '',
    'request_id', note.request_id, 'outcome', 'allowed'}
  local streams = {auditKeyOf(prefix)}
  if project ~= '*' then streams[2] = projectAuditKeyOf(prefix, project) end
  for _, key in ipairs(streams) do
    redis.call('XTRIM', key, 'MINID', note.min_ms)
    redis.call('XADD', key, '*', unpack(fields))
    redis.call('PEXPIRE', key, note.keep_ms)
  end
end

-- A change of a record that names its project and id: an entry in its
-- project (`noProject` for a record without one), naming the record.
local function auditRecord(prefix, audit, key, targetType, noProject)
  if not audit then return end
  local record = redis.call('HMGET', key, 'project', 'id')
  appendAudit(prefix, audit, record[1] or noProject, targetType, record[2])
end

-- A change of a stack: an entry in its project, naming the stack.
local function auditStack(prefix, audit, stackKey)
  auditRecord(prefix, audit, stackKey, 'stack', 'default')
end

-- A change of a job: an entry in its stack's project, naming the job.
local function auditJob(prefix, audit, stackKey, jobId)
  if not audit then return end
  appendAudit(prefix, audit, redis.call('HGET', stackKey, 'project') or 'default', 'job', jobId)
end

-- A change of a webhook: an entry in its project (an every-project
-- webhook's, '*', in the installation's log only), naming the webhook.
local function auditWebhook(prefix, audit, webhookKey)
  auditRecord(prefix, audit, webhookKey, 'webhook', '*')
end
