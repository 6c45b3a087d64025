--[[
  Gives every webhook recorded before webhooks belonged to projects the
  project '*': every project. Not `default`, where stacks from before
  projects went: such a webhook was made by a caller who was an admin of
  every project, received every project's events and was shown only to such
  callers. In `default` it would silently stop receiving the events of every
  other project, and its receiver URL (which can carry a secret) would be
  shown to the default project's admins; as an every-project webhook it
  keeps doing, and showing, what it did, as one its maker registers today
  without `?project=` does. An owner who wants it narrower registers it
  again with `?project=`.
  One batch of the index at a time, oldest first; repeating a pass changes
  nothing. Once a pass finds nothing left, the schema version is recorded.

  Input and output: those of includes/migrate-batch.lua; KEYS[1] the index of every webhook.
  The count it returns (moved): the webhooks that had no project.
]]
--- @include "migrate-batch"
--- @include "keys"

return migrateBatch(function(member)
  local webhookKey = webhookKeyOf(prefix, string.sub(member, 17))
  if redis.call('EXISTS', webhookKey) == 0 or redis.call('HEXISTS', webhookKey, 'project') == 1 then return false end
  redis.call('HSET', webhookKey, 'project', '*')
  return true
end)
