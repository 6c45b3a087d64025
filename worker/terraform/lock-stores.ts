// Where an S3 backend keeps its state locks, as Terraform keeps them: an item
// in a DynamoDB table (`dynamodb_table`), an object beside the state
// (`use_lockfile`, `<key>.tflock`, written only if absent), or both. Each
// store writes Terraform's lock info as Terraform does, plus a heartbeat of
// its own that Terraform ignores (see state-lock.ts).
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

// Terraform's lock info (JSON); `raw` is it as stored, to act only on exactly
// that lock. `heartbeatMs`: when its holder last said it was still working,
// if it ever did.
export type LockInfo = {
  ID: string;
  Operation: string;
  Info: string;
  Who: string;
  Version: string;
  Created: string;
  Path: string;
};
export type HeldLock = { info: Partial<LockInfo>; raw: string; heartbeatMs?: number };

export type LockStore = {
  // Takes the lock unless it is held; returns the holder then.
  put(lockId: string, info: LockInfo): Promise<HeldLock | undefined>;
  // Renews the heartbeat of exactly this lock; false when it is no longer there.
  touch(lockId: string, raw: string): Promise<boolean>;
  // Removes exactly this lock, as terraform force-unlock would; false when it is not there.
  delete(lockId: string, raw: string): Promise<boolean>;
};

function held(raw: string, heartbeat: string | undefined): HeldLock {
  const beat = Number(heartbeat);
  const seen = heartbeat !== undefined && Number.isFinite(beat) ? { heartbeatMs: beat } : {};
  try {
    return { info: JSON.parse(raw) as Partial<LockInfo>, raw, ...seen };
  } catch {
    return { info: {}, raw, ...seen };
  }
}

// Released between the two calls: reported as held by nobody known; the caller tries again.
const VANISHED: HeldLock = { info: {}, raw: '' };

// The lock table: LockID is "<bucket>/<state key>".
export function tableLocks(dynamo: DynamoDBClient, table: string): LockStore {
  const key = (lockId: string) => ({ LockID: { S: lockId } });
  const conditional = async (send: () => Promise<unknown>) => {
    try {
      await send();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  };
  return {
    async put(lockId, info) {
      const item = { ...key(lockId), Info: { S: JSON.stringify(info) }, Heartbeat: { N: String(Date.now()) } };
      if (
        await conditional(() =>
          dynamo.send(
            new PutItemCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(LockID)' }),
          ),
        )
      )
        return undefined;
      const found = await dynamo.send(new GetItemCommand({ TableName: table, Key: key(lockId), ConsistentRead: true }));
      const raw = found.Item?.Info?.S;
      return raw === undefined ? VANISHED : held(raw, found.Item?.Heartbeat?.N);
    },
    touch: (lockId, raw) =>
      conditional(() =>
        dynamo.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key(lockId),
            UpdateExpression: 'SET Heartbeat = :now',
            ConditionExpression: 'Info = :info',
            ExpressionAttributeValues: { ':info': { S: raw }, ':now': { N: String(Date.now()) } },
          }),
        ),
      ),
    delete: (lockId, raw) =>
      conditional(() =>
        dynamo.send(
          new DeleteItemCommand({
            TableName: table,
            Key: key(lockId),
            ConditionExpression: 'Info = :info',
            ExpressionAttributeValues: { ':info': { S: raw } },
          }),
        ),
      ),
  };
}

const HEARTBEAT_METADATA = 'tfcompute-heartbeat';

// S3-native lock files: the lock info as the object's body, the heartbeat in
// its metadata. Written with If-None-Match (taken) or If-Match on the version
// we wrote (renewed), so a lock someone else holds is never overwritten.
// Removed as Terraform removes its own: read, compare, delete.
export function lockFiles(s3: S3Client, bucket: string, objectKey: (lockId: string) => string, put: object): LockStore {
  // The ETag of each lock this process wrote, by its lock info.
  const versions = new Map<string, string>();
  const write = async (lockId: string, raw: string, condition: { IfNoneMatch: string } | { IfMatch: string }) => {
    try {
      const written = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: objectKey(lockId),
          Body: raw,
          ContentType: 'application/json',
          Metadata: { [HEARTBEAT_METADATA]: String(Date.now()) },
          ...condition,
          ...put,
        }),
      );
      if (written.ETag) versions.set(raw, written.ETag);
      return true;
    } catch (error) {
      // 412: the condition did not hold; 409: a concurrent conditional write won.
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw error;
    }
  };
  const read = async (lockId: string): Promise<HeldLock | undefined> => {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(lockId) }));
      return held((await object.Body?.transformToString('utf8')) ?? '', object.Metadata?.[HEARTBEAT_METADATA]);
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NotFound') return undefined;
      throw error;
    }
  };
  return {
    async put(lockId, info) {
      if (await write(lockId, JSON.stringify(info), { IfNoneMatch: '*' })) return undefined;
      return (await read(lockId)) ?? VANISHED;
    },
    async touch(lockId, raw) {
      const version = versions.get(raw);
      if (version === undefined) return false;
      return write(lockId, raw, { IfMatch: version });
    },
    async delete(lockId, raw) {
      const found = await read(lockId);
      if (found?.raw !== raw) return false;
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(lockId) }));
      versions.delete(raw);
      return true;
    },
  };
}

// Both, as Terraform takes both when both are configured: the table first.
export function bothLocks(first: LockStore, second: LockStore): LockStore {
  return {
    async put(lockId, info) {
      const holder = await first.put(lockId, info);
      if (holder) return holder;
      const other = await second.put(lockId, info);
      if (other) await first.delete(lockId, JSON.stringify(info));
      return other;
    },
    async touch(lockId, raw) {
      const [a, b] = await Promise.all([first.touch(lockId, raw), second.touch(lockId, raw)]);
      return a && b;
    },
    async delete(lockId, raw) {
      const [a, b] = await Promise.all([first.delete(lockId, raw), second.delete(lockId, raw)]);
      return a || b;
    },
  };
}
