--[[
  The opening of every script about one job of a stack (requesting a new
  one, or deciding on one queued, planned or stopped by a policy): its keys
  and its arguments, packed as one JSON object by core/store/script-args.ts.
  Every such script's arguments name the job (`jobId`) and the time (`now`,
  ISO 8601).
    KEYS[1] resource key
    KEYS[2] job key
    KEYS[3] the resource's queue of unfinished jobs
    ARGV[1] key prefix
    ARGV[2] the arguments (JSON)
]]
local resourceKey = KEYS[1]
local jobKey = KEYS[2]
local opsKey = KEYS[3]
local prefix = ARGV[1]
local args = cjson.decode(ARGV[2])
local jobId = args.jobId
local now = args.now
