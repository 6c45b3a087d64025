--[[
  The opening of every script about one job of a stack (requesting a new
  one, deciding on one planned or stopped by a policy, cancelling one, or a
  worker recording how one runs): its keys and its arguments, packed as one
  JSON object (core/store/script-args.ts types them).
  Every such script's arguments name the job (`jobId`) and the time (`now`,
  ISO 8601).
    KEYS[1] stack key
    KEYS[2] job key
    KEYS[3] the stack's queue of unfinished jobs (none in a script of two keys)
    ARGV[1] key prefix
    ARGV[2] the arguments (JSON)
]]
local stackKey, jobKey, opsKey = unpack(KEYS)
local prefix, args = ARGV[1], cjson.decode(ARGV[2])
local jobId, now = args.jobId, args.now
