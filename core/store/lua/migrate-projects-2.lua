--[[
  Puts every stack recorded before projects into the default project: its
  `project` field, the default project's list indexes (see
  includes/keys.lua, listScopesOf) and, if it is not deleted, the project's
  live stacks. One batch of the index at a time, oldest first; repeating a
  pass changes nothing. Once a pass finds nothing left, the schema version
  is recorded and later starts skip the scan.

  Input and output: those of includes/migrate-batch.lua; KEYS[1] the index of every stack.
  The count it returns (moved): the stacks that had no project.
]]
--- @include "migrate-batch"
--- @include "keys"
--- @include "drift"

return migrateBatch(function(member)
  local id = string.sub(member, 17)
  local stackKey = stackKeyOf(prefix, id)
  local record = redis.call('HMGET', stackKey, 'status', 'template', 'project')
  local status, template = record[1], record[2]
  if not status or record[3] then return false end
  redis.call('HSET', stackKey, 'project', 'default')
  redis.call('ZADD', templateIndexKeyOf(prefix, template, 'default'), 0, member)
  redis.call('ZADD', templateStatusKeyOf(prefix, template, status, 'default'), 0, member)
  if status ~= 'deleted' then
    enterDriftIndexes(prefix, stackKey, status)
    redis.call('SADD', projectLiveKeyOf(prefix, 'default'), id)
  end
  return true
end)
