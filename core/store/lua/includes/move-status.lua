--[[
  Moves a stack from one status index to another (the installation's and
  its template's, across projects and in its project), and the drift index of
  its template and status. A stack that becomes deleted no longer counts
  against its owner's cap of live resources nor its project's quota, and
  leaves the drift indexes.
]]
--- @include "keys"
--- @include "drift"
--- @include "events"
local function moveStatus(prefix, stackKey, from, to)
  local record = redis.call('HMGET', stackKey, 'member', 'id', 'owner', 'template', 'project', 'created_by')
  -- Records from before principals had keys are counted under created_by.
  local member, id, owner, template, project = record[1], record[2], record[3] or record[6], record[4], record[5]
  if from ~= to then
    redis.call('ZREM', statusKeyOf(prefix, from), member)
    redis.call('ZADD', statusKeyOf(prefix, to), 0, member)
    if template then
      for _, scope in ipairs(listScopesOf(project)) do
        redis.call('ZREM', templateStatusKeyOf(prefix, template, from, scope), member)
        redis.call('ZADD', templateStatusKeyOf(prefix, template, to, scope), 0, member)
      end
    end
  end
  if to == 'deleted' and from ~= 'deleted' then
    if owner then redis.call('SREM', ownerLiveKeyOf(prefix, owner), id) end
    redis.call('SREM', projectLiveKeyOf(prefix, project), id)
  end
  if from ~= to and from ~= 'deleted' then
    leaveDriftIndexes(prefix, stackKey, from)
    if to ~= 'deleted' then enterDriftIndexes(prefix, stackKey, to) end
  end
end

-- Sets a stack's status (and `...`, more field-value pairs): its indexes
-- follow, and a change of status records its event.
local function setStackStatus(prefix, stackKey, to, now, ...)
  local from = redis.call('HGET', stackKey, 'status')
  moveStatus(prefix, stackKey, from, to)
  redis.call('HSET', stackKey, 'status', to, 'updated_at', now, ...)
  if from ~= to then stackEvent(prefix, stackKey, now) end
end
