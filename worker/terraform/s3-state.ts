// Direct access to workspace state in an S3 backend, so a job does not start
// a Terraform process just to look at or remove a workspace: the adoption
// check before a create (instead of `workspace new` + `state list`) and the
// workspace removal after a destroy (instead of `workspace delete`).
//
// It reads the backend settings Terraform recorded at init (s3-backend.ts),
// and declines (returns undefined) whenever it cannot do exactly what
// Terraform would: role assumption, customer-provided encryption keys, custom
// CA bundles, proxies, or any error. The caller then runs the Terraform
// command instead.
import { randomUUID } from 'node:crypto';
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { HeldLock, LockInfo, LockStore } from './lock-stores.ts';
import { type Backend, backendOf, recordedS3Backend, type S3BackendConfig } from './s3-backend.ts';

export type WorkspaceState = { exists: false } | { exists: true; resources: number; lineage?: string };

export type { HeldLock, LockInfo } from './lock-stores.ts';

export class S3State {
  readonly #b: Backend;
  // The workspace_key_prefix this view reads and writes under.
  readonly #prefix: string;

  // `env` is the environment Terraform runs with; its AWS variables are used
  // so both reach the bucket as the same identity.
  constructor(config: S3BackendConfig, env: Readonly<Record<string, string>>);
  constructor(backend: Backend, prefix: string);
  constructor(config: S3BackendConfig | Backend, envOrPrefix: Readonly<Record<string, string>> | string) {
    if (typeof envOrPrefix === 'string') {
      this.#b = config as Backend;
      this.#prefix = envOrPrefix;
      return;
    }
    const c = config as S3BackendConfig;
    this.#b = backendOf(c, envOrPrefix);
    this.#prefix = c.workspace_key_prefix ?? 'env:';
  }

  // The same backend as a stack with a workspace_key_prefix of its own sees
  // it (see stackStatePrefix in core/ids.ts); undefined: the backend's own
  // prefix, for stacks from before. Its locks and state follow the prefix,
  // as Terraform's do. Closing the backend closes every view.
  forStack(prefix: string | undefined): S3State {
    return prefix === undefined ? this : new S3State(this.#b, prefix);
  }

  objectKey(workspace: string): string {
    return `${this.#prefix}/${workspace}/${this.#b.key}`;
  }

  // What the workspace holds, or undefined when it cannot be told.
  async inspect(workspace: string): Promise<WorkspaceState | undefined> {
    try {
      const object = await this.#b.s3.send(
        new GetObjectCommand({ Bucket: this.#b.bucket, Key: this.objectKey(workspace) }),
      );
      const text = await object.Body?.transformToString('utf8');
      const state = JSON.parse(text ?? '{}') as {
        lineage?: string;
        resources?: Array<{ mode?: string; instances?: unknown[] }>;
      };
      const resources = (state.resources ?? [])
        .filter((r) => r.mode !== 'data')
        .reduce((sum, r) => sum + (r.instances?.length ?? 0), 0);
      return { exists: true, resources, ...(state.lineage ? { lineage: state.lineage } : {}) };
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NotFound') return { exists: false };
      return undefined;
    }
  }

  // Removes an empty workspace as `terraform workspace delete` does: the state
  // object and, with a DynamoDB lock table, its checksum item. Returns the
  // state it found, or undefined when it could not act.
  async remove(workspace: string): Promise<WorkspaceState | undefined> {
    const state = await this.inspect(workspace);
    if (!state?.exists || state.resources > 0) return state;
    try {
      await this.#b.s3.send(new DeleteObjectCommand({ Bucket: this.#b.bucket, Key: this.objectKey(workspace) }));
      if (this.#b.dynamo && this.#b.table) {
        await this.#b.dynamo.send(
          new DeleteItemCommand({
            TableName: this.#b.table,
            Key: { LockID: { S: `${this.#b.bucket}/${this.objectKey(workspace)}-md5` } },
          }),
        );
      }
      return state;
    } catch {
      return undefined;
    }
  }

  // Creates a workspace as Terraform does the first time it selects one: an
  // empty state object. Only ever called while holding the workspace's lock.
  // Returns the new state's lineage.
  async createEmptyState(workspace: string): Promise<string> {
    const state = {
      version: 4,
      terraform_version: '1.11.4',
      serial: 0,
      lineage: randomUUID(),
      outputs: {},
      resources: [],
      check_results: null,
    };
    await this.#b.s3.send(
      new PutObjectCommand({
        Bucket: this.#b.bucket,
        Key: this.objectKey(workspace),
        Body: `${JSON.stringify(state, null, 2)}\n`,
        ContentType: 'application/json',
        ...(this.#b.put as object),
      }),
    );
    return state.lineage;
  }

  // Saved plans of updates awaiting approval. They hold the stack's inputs,
  // secrets included, in plain text, so they are kept as the state is: in its
  // bucket, written with the backend's encryption settings, outside the
  // workspace prefix Terraform lists.
  planKey(workspace: string, jobId: string): string {
    return `tfcompute-plans/${workspace}/${jobId}.tfplan`;
  }

  async putPlan(workspace: string, jobId: string, body: Uint8Array): Promise<void> {
    await this.#b.s3.send(
      new PutObjectCommand({
        Bucket: this.#b.bucket,
        Key: this.planKey(workspace, jobId),
        Body: body,
        ...(this.#b.put as object),
      }),
    );
  }

  // The saved plan, or undefined when there is none.
  async getPlan(workspace: string, jobId: string): Promise<Uint8Array | undefined> {
    try {
      const object = await this.#b.s3.send(
        new GetObjectCommand({ Bucket: this.#b.bucket, Key: this.planKey(workspace, jobId) }),
      );
      return await object.Body?.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NotFound') return undefined;
      throw error;
    }
  }

  async deletePlan(workspace: string, jobId: string): Promise<void> {
    await this.#b.s3.send(new DeleteObjectCommand({ Bucket: this.#b.bucket, Key: this.planKey(workspace, jobId) }));
  }

  // Removes every plan saved for the workspace (it is being deleted); returns how many.
  async deletePlans(workspace: string): Promise<number> {
    let removed = 0;
    let token: string | undefined;
    do {
      const page = await this.#b.s3.send(
        new ListObjectsV2Command({
          Bucket: this.#b.bucket,
          Prefix: `tfcompute-plans/${workspace}/`,
          ContinuationToken: token,
        }),
      );
      for (const { Key } of page.Contents ?? []) {
        if (Key === undefined) continue;
        await this.#b.s3.send(new DeleteObjectCommand({ Bucket: this.#b.bucket, Key }));
        removed++;
      }
      token = page.NextContinuationToken;
    } while (token);
    return removed;
  }

  // Whether the backend keeps state locks we can take (a lock table, lock files, or both).
  get canLock(): boolean {
    return this.#b.locks !== undefined;
  }

  lockId(workspace: string): string {
    return `${this.#b.bucket}/${this.objectKey(workspace)}`;
  }

  // Takes the workspace's state lock unless it is held; returns the holder then.
  async putLock(workspace: string, info: LockInfo): Promise<HeldLock | undefined> {
    return this.#lockStore().put(this.lockId(workspace), info);
  }

  // Says the holder of exactly this lock is still working. Returns false when
  // the lock is no longer this one (released, or taken from us).
  async touchLock(workspace: string, raw: string): Promise<boolean> {
    return this.#lockStore().touch(this.lockId(workspace), raw);
  }

  // Deletes the lock only if it is still exactly the one given, as Terraform's
  // force-unlock would. Returns whether it did.
  async deleteLock(workspace: string, raw: string): Promise<boolean> {
    return this.#lockStore().delete(this.lockId(workspace), raw);
  }

  #lockStore(): LockStore {
    if (!this.#b.locks) throw new Error('the backend has no lock table and no lock files');
    return this.#b.locks;
  }

  close(): void {
    this.#b.s3.destroy();
    this.#b.dynamo?.destroy();
  }
}

// The S3 backend Terraform initialised in `dataDir`, if that is what it is and
// we can reach it the same way; otherwise undefined.
export async function openS3State(
  dataDir: string,
  env: Readonly<Record<string, string>>,
): Promise<S3State | undefined> {
  const config = await recordedS3Backend(dataDir);
  return config && new S3State(config, env);
}
