// Resource and job records in Redis. Every change that touches more than one
// key runs as one Lua script or MULTI, so a reader never sees a resource whose
// status, index entries and job disagree.
//
// Keys, under the configured prefix P:
//   P:res:{id}            hash   the resource
//   P:res:{id}:ops        list   ids of the resource's unfinished jobs, oldest first;
//                                only the head may run (per-resource ordering)
//   P:res:index           zset   every resource, member "{created_ms}:{id}" (score 0, lexical order)
//   P:res:status:{s}      zset   the same members, by status
//   P:job:{id}            hash   the job record users read
//   P:job:{id}:log        string the job's Terraform output
//   P:worker:{id}         string a live worker's lease (expires unless renewed)
//   P:owner:{name}:live   set    ids of a token's resources that are not deleted (the per-token cap)
//   P:idem:{name}:{hash}  string "{resourceId} {fingerprint}" for an Idempotency-Key, for 24 h
//   P:metrics:jobs        hash   job duration histogram, "{action}|{outcome}|{field}" -> count or sum
//   P:events              pubsub job state changes, JSON
//   P:cancel              pubsub ids of running jobs to interrupt
//   P:logs                pubsub ids of jobs whose log grew
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from './errors.ts';
import {
  RESOURCE_STATUSES,
  type Job,
  type JobAction,
  type JobError,
  type JobProgress,
  type JobResult,
  type JobStatus,
  type Outputs,
  type Resource,
  type ResourceInputs,
  type ResourceStatus,
} from './schemas.ts';

const MEMBER_PATTERN = /^\d{15}:[0-9a-z]{16}$/;
export const MAX_LOG_BYTES = 2 * 1024 * 1024;

export type JobEvent = { resourceId: string; jobId: string; status: JobStatus; resourceStatus?: ResourceStatus };

export type Page = { items: Resource[]; nextCursor: string | null };

// How long an Idempotency-Key is remembered.
export const IDEMPOTENCY_SECONDS = 24 * 3600;

export type CreateOutcome =
  | { outcome: 'created' }
  | { outcome: 'replay'; resourceId: string; fingerprint: string }
  | { outcome: 'cap'; live: number };

export type CancelOutcome =
  | { outcome: 'cancelled'; next: string | null }
  | { outcome: 'signalled' }
  | { outcome: 'finished'; status: JobStatus }
  | { outcome: 'missing' };

export type RetryRequest = { outcome: 'created'; jobId: string } | { outcome: 'conflict'; status: ResourceStatus } | { outcome: 'missing' };

export type DeleteRequest =
  | { outcome: 'created'; jobId: string }
  | { outcome: 'cancelled'; jobId: string; cancelledJobId: string }
  | { outcome: 'existing'; jobId: string }
  | { outcome: 'deleted'; jobId: string }
  | { outcome: 'missing' };

// Job durations are kept as a Prometheus histogram in Redis, so that every API
// process reports the same figures whichever worker ran the job.
export const JOB_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600];

const STATUS_MOVE = `
local function move(prefix, member, from, to)
  if from ~= to then
    redis.call('ZREM', prefix .. ':res:status:' .. from, member)
    redis.call('ZADD', prefix .. ':res:status:' .. to, 0, member)
  end
  if to == 'deleted' and from ~= 'deleted' then
    local owner = redis.call('HGET', prefix .. ':res:' .. string.sub(member, 17), 'created_by')
    if owner then redis.call('SREM', prefix .. ':owner:' .. owner .. ':live', string.sub(member, 17)) end
  end
end
local BUCKETS = {${JOB_DURATION_BUCKETS.join(', ')}}
local function observe(prefix, jobKey, outcome, nowMs)
  local job = redis.call('HMGET', jobKey, 'action', 'started_ms')
  local seconds = 0
  if job[2] then seconds = (tonumber(nowMs) - tonumber(job[2])) / 1000 end
  local key = prefix .. ':metrics:jobs'
  local base = job[1] .. '|' .. outcome .. '|'
  for _, le in ipairs(BUCKETS) do
    if seconds <= le then redis.call('HINCRBY', key, base .. le, 1) end
  end
  redis.call('HINCRBY', key, base .. 'count', 1)
  redis.call('HINCRBYFLOAT', key, base .. 'sum', seconds)
end
`;

// KEYS: res, job, ops, index, creating, live, idempotency
// ARGV: id, jobId, now, member, inputsJson, maxAttempts, owner, cap, fingerprint, idempotencySeconds, expiresAt, prefix
// Records a new resource and its create job, unless the Idempotency-Key was
// already used (returns the resource it made, if it still exists) or the
// owner is at its cap.
const CREATE = `
if ARGV[9] ~= '' then
  local previous = redis.call('GET', KEYS[7])
  if previous then
    local space = string.find(previous, ' ', 1, true)
    local id = string.sub(previous, 1, space - 1)
    if redis.call('EXISTS', ARGV[12] .. ':res:' .. id) == 1 then
      return {'replay', id, string.sub(previous, space + 1)}
    end
  end
end
local live = redis.call('SCARD', KEYS[6])
if live >= tonumber(ARGV[8]) then return {'cap', tostring(live)} end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'status', 'creating', 'inputs', ARGV[5], 'outputs', '{}', 'error', '',
  'created_at', ARGV[3], 'updated_at', ARGV[3], 'job_id', ARGV[2], 'job_action', 'create', 'job_status', 'queued',
  'member', ARGV[4], 'created_by', ARGV[7], 'expires_at', ARGV[11])
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'resource_id', ARGV[1], 'action', 'create', 'status', 'queued',
  'attempts', 0, 'max_attempts', ARGV[6], 'progress', '{"completed":0,"total":null}', 'created_at', ARGV[3], 'updated_at', ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('ZADD', KEYS[4], 0, ARGV[4])
redis.call('ZADD', KEYS[5], 0, ARGV[4])
redis.call('SADD', KEYS[6], ARGV[1])
if ARGV[9] ~= '' then redis.call('SET', KEYS[7], ARGV[1] .. ' ' .. ARGV[9], 'EX', ARGV[10]) end
return {'created', ARGV[1]}
`;

// KEYS: res, job, ops   ARGV: prefix, jobId, now, maxAttempts, retentionSeconds, cancelledErrorJson, emptyResultJson, nowMs
// A create that has never started (first attempt still queued, not a retry)
// cannot have made anything, so it is cancelled and the resource is deleted at
// once, with a delete job that succeeds without running Terraform.
const REQUEST_DELETE = `${STATUS_MOVE}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', ''} end
if status == 'deleting' or status == 'deleted' then
  local outcome = 'existing'
  if status == 'deleted' then outcome = 'deleted' end
  return {outcome, redis.call('HGET', KEYS[1], 'job_id')}
end
local member = redis.call('HGET', KEYS[1], 'member')
local resourceId = redis.call('HGET', KEYS[1], 'id')
local current = redis.call('HGET', KEYS[1], 'job_id')
local currentKey = ARGV[1] .. ':job:' .. current
local job = redis.call('HMGET', currentKey, 'action', 'status', 'attempts', 'retry')
if status == 'creating' and job[1] == 'create' and job[2] == 'queued' and job[3] == '0' and job[4] ~= '1' then
  redis.call('HSET', currentKey, 'status', 'cancelled', 'finished_at', ARGV[3], 'updated_at', ARGV[3], 'error', ARGV[6])
  redis.call('EXPIRE', currentKey, ARGV[5])
  observe(ARGV[1], currentKey, 'cancelled', ARGV[8])
  redis.call('LREM', KEYS[3], 0, current)
  move(ARGV[1], member, status, 'deleted')
  redis.call('HSET', KEYS[2], 'id', ARGV[2], 'resource_id', resourceId, 'action', 'delete', 'status', 'succeeded',
    'attempts', 0, 'max_attempts', ARGV[4], 'progress', '{"completed":0,"total":0}', 'created_at', ARGV[3],
    'started_at', ARGV[3], 'finished_at', ARGV[3], 'updated_at', ARGV[3], 'result', ARGV[7])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  local log = ARGV[1] .. ':job:' .. ARGV[2] .. ':log'
  redis.call('SET', log, 'The create job ' .. current .. ' had not started; it was cancelled, and there is nothing to destroy.\\n', 'EX', ARGV[5])
  redis.call('HSET', KEYS[1], 'status', 'deleted', 'job_id', ARGV[2], 'job_action', 'delete', 'job_status', 'succeeded',
    'updated_at', ARGV[3], 'error', '', 'outputs', '{}')
  return {'cancelled', ARGV[2], current}
end
move(ARGV[1], member, status, 'deleting')
redis.call('HSET', KEYS[1], 'status', 'deleting', 'job_id', ARGV[2], 'job_action', 'delete',
  'job_status', 'queued', 'updated_at', ARGV[3], 'error', '')
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'resource_id', resourceId, 'action', 'delete', 'status', 'queued',
  'attempts', 0, 'max_attempts', ARGV[4], 'progress', '{"completed":0,"total":null}',
  'created_at', ARGV[3], 'updated_at', ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[2])
return {'created', ARGV[2]}
`;

// KEYS: res, job, ops   ARGV: prefix, jobId, now, maxAttempts
// Only a failed create is retried; any other status is returned as it is.
const REQUEST_RETRY = `${STATUS_MOVE}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', ''} end
if status ~= 'failed' then return {'conflict', status} end
move(ARGV[1], redis.call('HGET', KEYS[1], 'member'), status, 'creating')
redis.call('HSET', KEYS[1], 'status', 'creating', 'job_id', ARGV[2], 'job_action', 'create',
  'job_status', 'queued', 'updated_at', ARGV[3], 'error', '')
redis.call('HSET', KEYS[2], 'id', ARGV[2], 'resource_id', redis.call('HGET', KEYS[1], 'id'), 'action', 'create',
  'status', 'queued', 'attempts', 0, 'max_attempts', ARGV[4], 'progress', '{"completed":0,"total":null}',
  'created_at', ARGV[3], 'updated_at', ARGV[3], 'retry', '1')
redis.call('RPUSH', KEYS[3], ARGV[2])
return {'created', ARGV[2]}
`;

// KEYS: res, job, ops   ARGV: prefix, jobId, now, errorJson, retentionSeconds, nowMs
// A queued job is finished as cancelled here and then; its resource, if this
// was its current job, becomes failed (create) or delete_failed (delete), the
// states a later DELETE cleans up. A running job is flagged and must be
// interrupted by its worker.
const CANCEL = `${STATUS_MOVE}
local job = redis.call('HMGET', KEYS[2], 'status', 'action')
if not job[1] then return {'missing', ''} end
if job[1] == 'running' then
  redis.call('HSET', KEYS[2], 'cancel_requested', '1')
  return {'signalled', ''}
end
if job[1] ~= 'queued' then return {'finished', job[1]} end
redis.call('HSET', KEYS[2], 'status', 'cancelled', 'finished_at', ARGV[3], 'updated_at', ARGV[3], 'error', ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[5])
observe(ARGV[1], KEYS[2], 'cancelled', ARGV[6])
redis.call('LREM', KEYS[3], 0, ARGV[2])
if redis.call('HGET', KEYS[1], 'job_id') == ARGV[2] then
  local to = 'failed'
  if job[2] == 'delete' then to = 'delete_failed' end
  move(ARGV[1], redis.call('HGET', KEYS[1], 'member'), redis.call('HGET', KEYS[1], 'status'), to)
  redis.call('HSET', KEYS[1], 'status', to, 'job_status', 'cancelled', 'updated_at', ARGV[3], 'error', ARGV[4])
end
local next = redis.call('LINDEX', KEYS[3], 0)
return {'cancelled', next or ''}
`;

// KEYS: res, job   ARGV: jobId, now, nowMs
// Returns -1 for a job that has already finished (cancelled before it started,
// or delivered again after it finished): it must not run; -2 for a job whose
// cancel was requested while it was out of a worker's hands.
const MARK_RUNNING = `
local status = redis.call('HGET', KEYS[2], 'status')
if status == 'failed' or status == 'succeeded' or status == 'cancelled' or status == false then return -1 end
if redis.call('HGET', KEYS[2], 'cancel_requested') == '1' then return -2 end
local attempts = redis.call('HINCRBY', KEYS[2], 'attempts', 1)
redis.call('HSET', KEYS[2], 'status', 'running', 'updated_at', ARGV[2])
if redis.call('HGET', KEYS[2], 'started_at') == false then
  redis.call('HSET', KEYS[2], 'started_at', ARGV[2], 'started_ms', ARGV[3])
end
if redis.call('HGET', KEYS[1], 'job_id') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'job_status', 'running', 'updated_at', ARGV[2])
end
return attempts
`;

// KEYS: res, job   ARGV: jobId, now, errorJson
const REQUEUE = `
redis.call('HSET', KEYS[2], 'status', 'queued', 'updated_at', ARGV[2], 'error', ARGV[3])
if redis.call('HGET', KEYS[1], 'job_id') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'job_status', 'queued', 'updated_at', ARGV[2])
end
return 1
`;

// KEYS: res, job, ops, log   ARGV: prefix, jobId, now, jobStatus, resourceStatus, outputsJson, resultJson, errorJson, retentionSeconds, nowMs
// The resource's status follows only its current job: a create that finishes
// after a DELETE was requested records its outputs but leaves "deleting".
// A finished job's record and log expire after the retention period.
const FINISH = `${STATUS_MOVE}
local previous = redis.call('HGET', KEYS[2], 'status')
if previous == 'succeeded' or previous == 'failed' or previous == 'cancelled' then return redis.call('LINDEX', KEYS[3], 0) end
redis.call('HSET', KEYS[2], 'status', ARGV[4], 'finished_at', ARGV[3], 'updated_at', ARGV[3],
  'result', ARGV[7], 'error', ARGV[8])
observe(ARGV[1], KEYS[2], ARGV[4], ARGV[10])
redis.call('EXPIRE', KEYS[2], ARGV[9])
redis.call('EXPIRE', KEYS[4], ARGV[9])
redis.call('LREM', KEYS[3], 0, ARGV[2])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'outputs', ARGV[6]) end
if redis.call('HGET', KEYS[1], 'job_id') == ARGV[2] then
  local from = redis.call('HGET', KEYS[1], 'status')
  move(ARGV[1], redis.call('HGET', KEYS[1], 'member'), from, ARGV[5])
  redis.call('HSET', KEYS[1], 'status', ARGV[5], 'job_status', ARGV[4], 'updated_at', ARGV[3], 'error', ARGV[8])
end
return redis.call('LINDEX', KEYS[3], 0)
`;

// KEYS: res, job, ops, log, index, live, idempotency   ARGV: prefix, jobId, resourceId
const DISCARD = `
local member = redis.call('HGET', KEYS[1], 'member')
local status = redis.call('HGET', KEYS[1], 'status')
if member then
  redis.call('ZREM', KEYS[5], member)
  redis.call('ZREM', ARGV[1] .. ':res:status:' .. status, member)
end
redis.call('SREM', KEYS[6], ARGV[3])
local idempotent = redis.call('GET', KEYS[7])
if idempotent and string.sub(idempotent, 1, 16) == ARGV[3] then redis.call('DEL', KEYS[7]) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return 1
`;

type ScriptArg = string | number;
type Script = (...args: ScriptArg[]) => Promise<unknown>;

export class Store {
  readonly redis: Redis;
  readonly prefix: string;
  readonly eventsChannel: string;
  // How long a finished job's record and log are kept.
  readonly #jobRetentionSeconds: number;
  readonly #scripts: Record<'create' | 'requestDelete' | 'requestRetry' | 'cancel' | 'markRunning' | 'requeue' | 'finish' | 'discard', Script>;

  constructor(redis: Redis, prefix: string, jobRetentionSeconds: number) {
    this.redis = redis;
    this.prefix = prefix;
    this.#jobRetentionSeconds = jobRetentionSeconds;
    this.eventsChannel = `${prefix}:events`;
    const define = (name: string, numberOfKeys: number, lua: string): Script => {
      const command = `tfcompute_${name}`;
      if (!(command in redis)) redis.defineCommand(command, { numberOfKeys, lua });
      const fn = (redis as unknown as Record<string, Script>)[command];
      if (fn === undefined) throw new Error(`could not define Redis script ${name}`);
      return fn.bind(redis);
    };
    this.#scripts = {
      create: define('create', 7, CREATE),
      requestDelete: define('request_delete', 3, REQUEST_DELETE),
      cancel: define('cancel', 3, CANCEL),
      requestRetry: define('request_retry', 3, REQUEST_RETRY),
      markRunning: define('mark_running', 2, MARK_RUNNING),
      requeue: define('requeue', 2, REQUEUE),
      finish: define('finish', 4, FINISH),
      discard: define('discard', 7, DISCARD),
    };
  }

  resourceKey(id: string): string {
    return `${this.prefix}:res:${id}`;
  }
  opsKey(id: string): string {
    return `${this.prefix}:res:${id}:ops`;
  }
  jobKey(id: string): string {
    return `${this.prefix}:job:${id}`;
  }
  logKey(id: string): string {
    return `${this.prefix}:job:${id}:log`;
  }
  get #indexKey(): string {
    return `${this.prefix}:res:index`;
  }
  #statusKey(status: ResourceStatus): string {
    return `${this.prefix}:res:status:${status}`;
  }

  ownerLiveKey(owner: string): string {
    return `${this.prefix}:owner:${owner}:live`;
  }
  idempotencyKey(owner: string, key: string): string {
    return `${this.prefix}:idem:${owner}:${createHash('sha256').update(key).digest('hex')}`;
  }
  get metricsKey(): string {
    return `${this.prefix}:metrics:jobs`;
  }
  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }
  get logsChannel(): string {
    return `${this.prefix}:logs`;
  }

  // Records a resource and its create job in one step. With an idempotency
  // key that was used before, nothing is written and the earlier resource is
  // named instead; an owner at its cap of live resources gets nothing either.
  async createResource(args: {
    id: string;
    jobId: string;
    inputs: ResourceInputs;
    maxAttempts: number;
    owner: string;
    maxLive: number;
    expiresAt?: Date | undefined;
    idempotency?: { key: string; fingerprint: string } | undefined;
    now?: Date;
  }): Promise<CreateOutcome> {
    const now = args.now ?? new Date();
    const member = `${String(now.getTime()).padStart(15, '0')}:${args.id}`;
    const idempotencyKey = args.idempotency ? this.idempotencyKey(args.owner, args.idempotency.key) : this.idempotencyKey(args.owner, '');
    const [outcome, detail = '', fingerprint = ''] = (await this.#scripts.create(
      this.resourceKey(args.id),
      this.jobKey(args.jobId),
      this.opsKey(args.id),
      this.#indexKey,
      this.#statusKey('creating'),
      this.ownerLiveKey(args.owner),
      idempotencyKey,
      args.id,
      args.jobId,
      now.toISOString(),
      member,
      JSON.stringify(args.inputs),
      args.maxAttempts,
      args.owner,
      args.maxLive,
      args.idempotency?.fingerprint ?? '',
      IDEMPOTENCY_SECONDS,
      args.expiresAt?.toISOString() ?? '',
      this.prefix,
    )) as [string, string?, string?];
    if (outcome === 'created') return { outcome };
    if (outcome === 'replay') return { outcome, resourceId: detail, fingerprint };
    if (outcome === 'cap') return { outcome, live: Number(detail) };
    throw new Error(`unexpected reply from create: ${outcome}`);
  }

  // Undoes createResource when the job could not be enqueued, so a client
  // that was told 503 does not find a resource stuck in "creating".
  async discardResource(id: string, jobId: string, owner: string, idempotencyKey: string | undefined): Promise<void> {
    await this.#scripts.discard(
      this.resourceKey(id),
      this.jobKey(jobId),
      this.opsKey(id),
      this.logKey(jobId),
      this.#indexKey,
      this.ownerLiveKey(owner),
      this.idempotencyKey(owner, idempotencyKey ?? ''),
      this.prefix,
      jobId,
      id,
    );
  }

  // Ids of resources still creating that were recorded before `before`,
  // oldest first, at most `limit`.
  async creatingSince(before: Date, limit: number): Promise<string[]> {
    const members = await this.redis.zrange(this.#statusKey('creating'), '-', `(${String(before.getTime()).padStart(15, '0')}:`, 'BYLEX', 'LIMIT', 0, limit);
    return members.map((member) => member.slice(16));
  }

  // Cancels a job: see CANCEL.
  async cancelJob(resourceId: string, jobId: string): Promise<CancelOutcome> {
    const error: JobError = { message: 'cancelled on request before it ran', retryable: true, diagnostics: [] };
    const [outcome, detail = ''] = (await this.#scripts.cancel(
      this.resourceKey(resourceId),
      this.jobKey(jobId),
      this.opsKey(resourceId),
      this.prefix,
      jobId,
      new Date().toISOString(),
      JSON.stringify(error),
      this.#jobRetentionSeconds,
      Date.now(),
    )) as [string, string?];
    if (outcome === 'missing' || outcome === 'signalled') return { outcome };
    if (outcome === 'finished') return { outcome, status: detail as JobStatus };
    if (outcome === 'cancelled') return { outcome, next: detail || null };
    throw new Error(`unexpected reply from cancel: ${outcome}`);
  }

  workerKey(workerId: string): string {
    return `${this.prefix}:worker:${workerId}`;
  }

  // A worker's lease: renewed while it lives, gone soon after it dies.
  async renewWorkerLease(workerId: string, leaseMs: number): Promise<void> {
    await this.redis.set(this.workerKey(workerId), '1', 'PX', leaseMs);
  }

  async endWorkerLease(workerId: string): Promise<void> {
    await this.redis.del(this.workerKey(workerId));
  }

  async isWorkerAlive(workerId: string): Promise<boolean> {
    return (await this.redis.exists(this.workerKey(workerId))) === 1;
  }

  async countByStatus(): Promise<Record<ResourceStatus, number>> {
    const pipeline = this.redis.pipeline();
    for (const status of RESOURCE_STATUSES) pipeline.zcard(this.#statusKey(status));
    const replies = (await pipeline.exec()) ?? [];
    const counts = {} as Record<ResourceStatus, number>;
    RESOURCE_STATUSES.forEach((status, i) => {
      const [error, count] = replies[i] ?? [];
      if (error) throw error;
      counts[status] = Number(count);
    });
    return counts;
  }

  async jobDurationHistogram(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.metricsKey);
  }

  async requestDelete(id: string, jobId: string, maxAttempts: number): Promise<DeleteRequest> {
    const cancelled: JobError = { message: 'cancelled: the resource was deleted before this job started', retryable: false, diagnostics: [] };
    const empty: JobResult = { outputs: {}, changes: { add: 0, change: 0, remove: 0 }, duration_ms: 0 };
    const [outcome, existing, cancelledJobId] = await this.#request(
      this.#scripts.requestDelete,
      id,
      jobId,
      maxAttempts,
      this.#jobRetentionSeconds,
      JSON.stringify(cancelled),
      JSON.stringify(empty),
      Date.now(),
    );
    if (outcome === 'missing') return { outcome };
    if (outcome === 'cancelled') return { outcome, jobId: existing, cancelledJobId: cancelledJobId ?? '' };
    if (outcome === 'created' || outcome === 'existing' || outcome === 'deleted') return { outcome, jobId: existing };
    throw new Error(`unexpected reply from request_delete: ${outcome}`);
  }

  async requestRetry(id: string, jobId: string, maxAttempts: number): Promise<RetryRequest> {
    const [outcome, detail] = await this.#request(this.#scripts.requestRetry, id, jobId, maxAttempts);
    if (outcome === 'missing') return { outcome };
    if (outcome === 'conflict') return { outcome, status: detail as ResourceStatus };
    if (outcome === 'created') return { outcome, jobId: detail };
    throw new Error(`unexpected reply from request_retry: ${outcome}`);
  }

  // Runs a script that records a new job on an existing resource.
  async #request(script: Script, id: string, jobId: string, maxAttempts: number, ...extra: ScriptArg[]): Promise<[string, string, string?]> {
    return (await script(
      this.resourceKey(id),
      this.jobKey(jobId),
      this.opsKey(id),
      this.prefix,
      jobId,
      new Date().toISOString(),
      maxAttempts,
      ...extra,
    )) as [string, string, string?];
  }

  async getResource(id: string): Promise<Resource | null> {
    const hash = await this.redis.hgetall(this.resourceKey(id));
    return hash.id === undefined ? null : toResource(hash);
  }

  async listResources(args: { status?: ResourceStatus | undefined; limit: number; cursor?: string | undefined }): Promise<Page> {
    const key = args.status ? this.#statusKey(args.status) : this.#indexKey;
    let start = '+';
    if (args.cursor !== undefined) {
      const member = Buffer.from(args.cursor, 'base64url').toString('utf8');
      if (!MEMBER_PATTERN.test(member)) throw new AppError('invalid-cursor', 'cursor is not one this API returned');
      start = `(${member}`;
    }
    const members = await this.redis.zrange(key, start, '-', 'BYLEX', 'REV', 'LIMIT', 0, args.limit + 1);
    const page = members.slice(0, args.limit);
    const pipeline = this.redis.pipeline();
    for (const member of page) pipeline.hgetall(this.resourceKey(member.slice(16)));
    const replies = page.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const items: Resource[] = [];
    for (const [error, hash] of replies) {
      if (error) throw error;
      const record = hash as Record<string, string>;
      if (record.id !== undefined) items.push(toResource(record));
    }
    const last = page.at(-1);
    const nextCursor = members.length > args.limit && last ? Buffer.from(last).toString('base64url') : null;
    return { items, nextCursor };
  }

  async getJob(jobId: string): Promise<Job | null> {
    const hash = await this.redis.hgetall(this.jobKey(jobId));
    return hash.id === undefined ? null : toJob(hash);
  }

  async getLog(jobId: string): Promise<string> {
    return (await this.redis.get(this.logKey(jobId))) ?? '';
  }

  // Up to `length` bytes of the log from byte `offset` on.
  async getLogRange(jobId: string, offset: number, length: number): Promise<Buffer> {
    return this.redis.getrangeBuffer(this.logKey(jobId), offset, offset + length - 1);
  }

  // Worker side.

  async opsHead(resourceId: string): Promise<string | null> {
    return this.redis.lindex(this.opsKey(resourceId), 0);
  }

  async isPending(resourceId: string, jobId: string): Promise<boolean> {
    return (await this.redis.lpos(this.opsKey(resourceId), jobId)) !== null;
  }

  async markRunning(resourceId: string, jobId: string): Promise<number> {
    return Number(
      await this.#scripts.markRunning(this.resourceKey(resourceId), this.jobKey(jobId), jobId, new Date().toISOString(), Date.now()),
    );
  }

  async requeue(resourceId: string, jobId: string, error: JobError | undefined): Promise<void> {
    await this.#scripts.requeue(
      this.resourceKey(resourceId),
      this.jobKey(jobId),
      jobId,
      new Date().toISOString(),
      error ? JSON.stringify(error) : '',
    );
  }

  async setProgress(jobId: string, progress: JobProgress): Promise<void> {
    await this.redis.hset(this.jobKey(jobId), 'progress', JSON.stringify(progress), 'updated_at', new Date().toISOString());
  }

  async isWorkspaceChecked(jobId: string): Promise<boolean> {
    return (await this.redis.hget(this.jobKey(jobId), 'workspace_checked')) === '1';
  }

  async markWorkspaceChecked(jobId: string): Promise<void> {
    await this.redis.hset(this.jobKey(jobId), 'workspace_checked', '1');
  }

  // Appends to the log and tells live log readers; returns the log's length.
  async appendLog(jobId: string, text: string): Promise<number> {
    const replies = await this.redis.multi().append(this.logKey(jobId), text).publish(this.logsChannel, jobId).exec();
    const [error, length] = replies?.[0] ?? [new Error('no reply to APPEND')];
    if (error) throw error;
    return Number(length);
  }

  // Returns the id of the resource's next pending job, if any.
  async finishJob(args: {
    resourceId: string;
    jobId: string;
    jobStatus: 'succeeded' | 'failed' | 'cancelled';
    resourceStatus: ResourceStatus;
    outputs?: Outputs;
    result?: JobResult;
    error?: JobError;
  }): Promise<string | null> {
    const next = await this.#scripts.finish(
      this.resourceKey(args.resourceId),
      this.jobKey(args.jobId),
      this.opsKey(args.resourceId),
      this.logKey(args.jobId),
      this.prefix,
      args.jobId,
      new Date().toISOString(),
      args.jobStatus,
      args.resourceStatus,
      args.outputs ? JSON.stringify(args.outputs) : '',
      args.result ? JSON.stringify(args.result) : '',
      args.error ? JSON.stringify(args.error) : '',
      this.#jobRetentionSeconds,
      Date.now(),
    );
    return typeof next === 'string' ? next : null;
  }

  async publish(event: JobEvent): Promise<void> {
    await this.redis.publish(this.eventsChannel, JSON.stringify(event));
  }
}

function parseJson<T>(value: string | undefined): T | undefined {
  return value ? (JSON.parse(value) as T) : undefined;
}

function toResource(hash: Record<string, string>): Resource {
  const jobId = hash.job_id ?? '';
  const resource: Resource = {
    id: hash.id ?? '',
    status: hash.status as ResourceStatus,
    inputs: parseJson<ResourceInputs>(hash.inputs) as Resource['inputs'],
    outputs: parseJson<Outputs>(hash.outputs) ?? {},
    created_by: hash.created_by ?? '',
    expires_at: hash.expires_at || null,
    created_at: hash.created_at ?? '',
    updated_at: hash.updated_at ?? '',
    job: {
      id: jobId,
      action: hash.job_action as JobAction,
      status: hash.job_status as JobStatus,
      href: `/api/jobs/${jobId}`,
    },
  };
  const error = parseJson<JobError>(hash.error);
  if (error) resource.error = error;
  return resource;
}

function toJob(hash: Record<string, string>): Job {
  const id = hash.id ?? '';
  const job: Job = {
    id,
    resource_id: hash.resource_id ?? '',
    action: hash.action as JobAction,
    status: hash.status as JobStatus,
    attempts: Number(hash.attempts ?? 0),
    max_attempts: Number(hash.max_attempts ?? 1),
    progress: parseJson<JobProgress>(hash.progress) ?? { completed: 0, total: null },
    created_at: hash.created_at ?? '',
    started_at: hash.started_at ?? null,
    finished_at: hash.finished_at ?? null,
    updated_at: hash.updated_at ?? '',
    href: `/api/jobs/${id}`,
    log_href: `/api/jobs/${id}/log`,
  };
  const result = parseJson<JobResult>(hash.result);
  if (result) job.result = result;
  const error = parseJson<JobError>(hash.error);
  if (error) job.error = error;
  return job;
}

