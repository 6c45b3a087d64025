// The store's key layout. The Lua scripts' copy, lua/includes/keys.lua, is
// checked against this one by test/store-keys.test.ts. Under the configured prefix P:
//   P:res:{id}            hash   the stack
//   P:res:{id}:ops        list   ids of the stack's unfinished jobs, oldest first;
//                                only the head may run (per-stack ordering)
//   P:res:{id}:jobs       zset   the stack's job history: every job it got, by index member
//                                ("{created_ms}:{job id}", score 0), kept as long as the job
//                                records it names (see lua/includes/history.lua)
//   P:res:index           zset   every stack, by index member (score 0, lexical order)
//   P:res:status:{s}      zset   the same members, by status
//   P:tpl:{t}:index       zset   the members of template t's resources
//   P:tpl:{t}:status:{s}  zset   the same, by status
//   P:res:drift:{d}       zset   the members of live stacks whose last drift result is d
//                                (in_sync or drifted; a stack in neither is unknown)
//   P:tpl:{t}:drift:{d}   zset   the live stacks of template t in drift status d
//                                (in_sync, drifted or unknown: each live stack is in one)
//   P:tpl:{t}:status:{s}:drift:{d}  zset  the same, of status s: every list filter
//                                is a page of one index
//   P:prj:{p}:tpl:{t}:…   zset   each of the four above again, for the stacks of project p
//                                (lists of one project read these)
//   P:prj:{p}             hash   a project: description, quota, timestamps
//   P:prj:{p}:live        set    ids of the project's stacks that are not deleted (its quota)
//   P:prj:{p}:running     set    ids of the project's running jobs, each holding a slot (max_running_jobs)
//   P:prj:{p}:waiting     zset   ids of its jobs waiting for a slot, by when they first asked
//   P:prj:{p}:audit       stream the project's audit entries (what its admins read)
//   P:audit               stream every audit entry, the installation's own included (what
//                                owners read); both written with the change they record
//   P:projects            zset   every project's name (score 0, lexical order)
//   P:res:forget          zset   the members of deleted stacks, by the time (ms) they are
//                                forgotten: their record and index entries removed
//   P:job:{id}            hash   the job record users read
//   P:job:{id}:log        string the job's Terraform output
//   P:worker:{id}         string a live worker's lease (expires unless renewed)
//   P:owner:{name}:live   set    ids of a token's resources that are not deleted (the per-token cap)
//   P:idem:{name}:{hash}  string "{stackId} {fingerprint}" for an Idempotency-Key, for 24 h
//   P:schema              string the version of this layout the records are in (see migrations.ts)
//   P:metrics:jobs        hash   job duration histogram, "{action}|{outcome}|{field}" -> count or sum
//   P:metrics:policies    hash   policy evaluations, "{policy id}|{outcome}" -> count
//   P:events              pubsub job state changes, JSON
//   P:events:outbox       stream every recorded change of a stack or job, as an event to send
//                                (written by the script that records the change; see outbox.ts)
//   P:events:seed         string the installation's random seed (the events' source is its hash)
//   P:events:counts       hash   events dispatched, refused by their schema, and deliveries made
//   P:wh:{id}             hash   a webhook: its project ('*': every project), its secrets sealed
//   P:wh:index            zset   every webhook, by index member
//   P:prj:{p}:wh:index    zset   the webhooks of project p (not every-project ones: those
//                                are in P:wh:index only), by index member; its size is
//                                the project's count against WEBHOOK_LIMIT_PER_PROJECT
//   P:wh:{id}:deliveries  zset   the webhook's deliveries, by index member (the newest 1000)
//   P:wh:{id}:held        set    ids of deliveries held while the webhook's circuit is open
//   P:dlv:{id}            hash   a delivery: the event it sends and where it stands
//   P:dlv:{id}:attempts   list   its attempts, oldest first (JSON)
//   P:tok:{id}            hash   a token made through the API: its project, name, role, the
//                                SHA-256 of its secret (never the secret), expiry, last use;
//                                expires with the token
//   P:tok:digest:{sha256} string the id of the token with that digest; expires with it
//   P:tok:names:{project} hash   token name -> id, one name per project (an entry whose
//                                token has expired is stale: a create may take the name)
//   P:pol:{id}            hash   a policy: its project ('*': every project), rule, message, ...
//   P:pol:index           zset   every policy, by index member
//   P:prj:{p}:pol:index   zset   the policies of project p (p '*': the every-project ones), by
//                                index member: a job reads its project's and '*''s
//   P:cancel              pubsub ids of running jobs to interrupt
//   P:logs                pubsub ids of jobs whose log grew
//   P:replica-mark        string a counter written before each WAIT (replica-wait.ts)
import { createHash } from 'node:crypto';
import type { DriftStatus, StackStatus } from '../schemas/index.ts';

// The drift results a stack can be indexed by; `unknown` is being in neither.
export type DriftResult = Exclude<DriftStatus, 'unknown'>;

export class Keys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  stack(id: string): string {
    return `${this.prefix}:res:${id}`;
  }
  ops(stackId: string): string {
    return `${this.prefix}:res:${stackId}:ops`;
  }
  history(stackId: string): string {
    return `${this.prefix}:res:${stackId}:jobs`;
  }
  // The keys of every script about one job of a stack (lua/includes/job-script.lua).
  jobScript(stackId: string, jobId: string): string[] {
    return [this.stack(stackId), this.job(jobId), this.ops(stackId)];
  }
  get index(): string {
    return `${this.prefix}:res:index`;
  }
  status(status: StackStatus): string {
    return `${this.prefix}:res:status:${status}`;
  }
  // A template's list indexes: across projects, or of one project.
  #templateScope(template: string, project: string | undefined): string {
    return project === undefined ? `${this.prefix}:tpl:${template}` : `${this.prefix}:prj:${project}:tpl:${template}`;
  }
  templateIndex(template: string, project?: string): string {
    return `${this.#templateScope(template, project)}:index`;
  }
  templateStatus(template: string, status: StackStatus, project?: string): string {
    return `${this.#templateScope(template, project)}:status:${status}`;
  }
  drift(drift: DriftResult): string {
    return `${this.prefix}:res:drift:${drift}`;
  }
  templateDrift(template: string, drift: DriftStatus, project?: string): string {
    return `${this.#templateScope(template, project)}:drift:${drift}`;
  }
  templateStatusDrift(template: string, status: StackStatus, drift: DriftStatus, project?: string): string {
    return `${this.#templateScope(template, project)}:status:${status}:drift:${drift}`;
  }
  project(name: string): string {
    return `${this.prefix}:prj:${name}`;
  }
  projectLive(name: string): string {
    return `${this.prefix}:prj:${name}:live`;
  }
  // Written by the scripts only (lua/includes/project-slots.lua); here so that
  // test/store-keys.test.ts checks their copy in keys.lua against this one.
  projectRunning(name: string): string {
    return `${this.prefix}:prj:${name}:running`;
  }
  projectWaiting(name: string): string {
    return `${this.prefix}:prj:${name}:waiting`;
  }
  get projects(): string {
    return `${this.prefix}:projects`;
  }
  projectAudit(name: string): string {
    return `${this.prefix}:prj:${name}:audit`;
  }
  get audit(): string {
    return `${this.prefix}:audit`;
  }
  get forget(): string {
    return `${this.prefix}:res:forget`;
  }
  job(id: string): string {
    return `${this.prefix}:job:${id}`;
  }
  log(jobId: string): string {
    return `${this.prefix}:job:${jobId}:log`;
  }
  worker(workerId: string): string {
    return `${this.prefix}:worker:${workerId}`;
  }
  ownerLive(owner: string): string {
    return `${this.prefix}:owner:${owner}:live`;
  }
  // The key itself is hashed: it is the client's string, of any shape.
  idempotency(owner: string, key: string): string {
    return `${this.prefix}:idem:${owner}:${createHash('sha256').update(key).digest('hex')}`;
  }
  get schema(): string {
    return `${this.prefix}:schema`;
  }
  get metrics(): string {
    return `${this.prefix}:metrics:jobs`;
  }
  get policyMetrics(): string {
    return `${this.prefix}:metrics:policies`;
  }
  get outbox(): string {
    return `${this.prefix}:events:outbox`;
  }
  get replicaMark(): string {
    return `${this.prefix}:replica-mark`;
  }
  get eventSeed(): string {
    return `${this.prefix}:events:seed`;
  }
  get eventCounts(): string {
    return `${this.prefix}:events:counts`;
  }
  webhook(id: string): string {
    return `${this.prefix}:wh:${id}`;
  }
  get webhookIndex(): string {
    return `${this.prefix}:wh:index`;
  }
  projectWebhooks(project: string): string {
    return `${this.prefix}:prj:${project}:wh:index`;
  }
  webhookDeliveries(webhookId: string): string {
    return `${this.prefix}:wh:${webhookId}:deliveries`;
  }
  webhookHeld(webhookId: string): string {
    return `${this.prefix}:wh:${webhookId}:held`;
  }
  delivery(id: string): string {
    return `${this.prefix}:dlv:${id}`;
  }
  deliveryAttempts(id: string): string {
    return `${this.prefix}:dlv:${id}:attempts`;
  }
  token(id: string): string {
    return `${this.prefix}:tok:${id}`;
  }
  tokenDigest(digestHex: string): string {
    return `${this.prefix}:tok:digest:${digestHex}`;
  }
  tokenNames(project: string): string {
    return `${this.prefix}:tok:names:${project}`;
  }
  policy(id: string): string {
    return `${this.prefix}:pol:${id}`;
  }
  get policyIndex(): string {
    return `${this.prefix}:pol:index`;
  }
  projectPolicies(project: string): string {
    return `${this.prefix}:prj:${project}:pol:index`;
  }
  // What the scripts that create a policy or a webhook (create-policy-4,
  // create-webhook-4) are given: its record, the index of every one, its
  // project's index, and its project.
  projectRecordKeys(kind: 'policy' | 'webhook', id: string, project: string): string[] {
    const own =
      kind === 'policy'
        ? [this.policy(id), this.policyIndex, this.projectPolicies(project)]
        : [this.webhook(id), this.webhookIndex, this.projectWebhooks(project)];
    return [...own, this.project(project)];
  }
  get eventsChannel(): string {
    return `${this.prefix}:events`;
  }
  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }
  get logsChannel(): string {
    return `${this.prefix}:logs`;
  }
}

// A stack's member in the index sets: "{created_ms, 15 digits}:{id}"
// (a job's in its stack's history likewise). Members sort lexically in
// creation order, so a page is a range of members and a cursor is the last
// member of the previous page.
const MS_DIGITS = 15;
const MEMBER_PATTERN = /^(\d{15}):([0-9a-z]{16})$/;

export const IndexMember = {
  encode(createdMs: number, id: string): string {
    return `${msPart(createdMs)}:${id}`;
  },
  // The member of a record that carries its creation time (ISO 8601).
  of(record: { id: string; createdAt: string }): string {
    return IndexMember.encode(Date.parse(record.createdAt), record.id);
  },
  // The stack (or job) id of a member this store wrote.
  id(member: string): string {
    const match = MEMBER_PATTERN.exec(member);
    if (!match) throw new Error(`not an index member: ${member}`);
    return match[2] as string;
  },
  isMember(text: string): boolean {
    return MEMBER_PATTERN.test(text);
  },
  // The exclusive lexical bound below every member created at or after `ms`.
  before(ms: number): string {
    return `(${msPart(ms)}:`;
  },
};

function msPart(ms: number): string {
  return String(ms).padStart(MS_DIGITS, '0');
}
