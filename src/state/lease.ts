// The sweep lease: one item in the state table that says which sweep run owns the account right now.
// A cron tick that finds a live lease does nothing, so two sweeps never run at once, and a chain of
// continuation invocations keeps the lease by renewing it. A crashed run's lease simply expires.
// The item also carries the run's last checkpoint (src/sweep/checkpoint.ts): written with the same
// conditions as a renew, so only the invocation holding the lease can write it, and read by the next
// run that takes an expired lease, which may resume from it.
//
// Every write is idempotent under retries: the DynamoDB client retries a request whose answer was lost
// (reset, timeout, 5xx after applying), and a retried conditional write must recognise its own earlier
// success instead of failing its condition. Each invocation therefore writes its own `token`, and every
// condition also accepts the state its own write would have left.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';

export const LEASE_KEY = 'lease#sweep';

/**
 * The most two invocations' clocks may differ (ms) while the lease still keeps a live holder's run
 * its own. A lease's expiry is written on its holder's clock and judged on another invocation's:
 * that one takes the lease (acquire, resume) only once its own clock is past `leaseUntil` by more
 * than this bound. A holder's lease lasts until KILLED_HOLDER_MARGIN_MS (60 s) after its Lambda
 * deadline on its own clock (src/aws/hand-off.ts), and it cannot outlive that deadline, so no run
 * whose clock is ahead of a live holder's by less than 60 s + CLOCK_SKEW_BOUND_MS (6 minutes) can
 * take its lease. Lambda hosts keep their clocks in sync with the Amazon Time Sync Service, far
 * inside this. Beyond it a takeover can still happen; the earlier holder's next lease write (a
 * checkpoint, its hand-off or the marking of its end) is then refused, and it stops and publishes
 * nothing (src/sweep/run.ts, status superseded). The cost: a killed run is resumed this much later.
 */
export const CLOCK_SKEW_BOUND_MS = 5 * 60_000;

/** Whether a lease that lasts until `leaseUntil` (its holder's clock) may be taken at `now` (the taker's). */
export function leaseExpired(leaseUntil: Date, now: Date): boolean {
  return leaseUntil.getTime() + CLOCK_SKEW_BOUND_MS < now.getTime();
}

export type LeaseResult =
  | { acquired: true; runId: string; leaseUntil: Date }
  | { acquired: false; holder: string | undefined; leaseUntil: Date | undefined };

/**
 * Moves a run from invocation `from` to `to` (equal when an invocation only extends its lease).
 * `token` names the invocation that writes it (the first invocation's token is its runId): a retry of
 * this invocation's own renew is recognised by it, while another copy of the same continuation,
 * with its own token, is refused.
 */
export interface LeaseFence {
  from: number;
  to: number;
  token?: string;
}

/**
 * A checkpoint as the lease item stores it: `body` is opaque here (the sweep's JSON, at most
 * MAX_CHECKPOINT_BYTES), `seq` orders one invocation's checkpoints so an older one never overwrites a
 * newer one.
 */
export interface StoredCheckpoint {
  seq: number;
  body: string;
}

/** DynamoDB items are at most 400 KB; a checkpoint stays well inside (its cursor's skip list is bounded). */
export const MAX_CHECKPOINT_BYTES = 256 * 1024;

/** The lease item as stored, read before a new run decides whether to resume its checkpoint. */
export interface LeaseRecord {
  runId: string;
  token: string;
  invocation: number;
  leaseUntil: Date;
  checkpoint?: StoredCheckpoint & { by: string };
}

export interface LeaseStore {
  /**
   * Takes the lease for `runId` (its token is the runId) if it is free or expired (leaseExpired at
   * `now`). A retry of a successful acquire succeeds.
   * With `checkpoint`, the new lease carries it (the start of the run): a run killed before its
   * next checkpoint resumes from there.
   */
  acquire(runId: string, now: Date, durationMs: number, checkpoint?: StoredCheckpoint): Promise<LeaseResult>;
  /** The lease item (consistent read), or undefined when there is none. */
  read(): Promise<LeaseRecord | undefined>;
  /**
   * Takes over an EXPIRED lease to resume its run from the checkpoint it carries: the item keeps its
   * runId, takes this invocation's `token` and number, and `checkpoint` in place of the one found
   * (the same, with what the resumer adds to its uncertainty, so a resumer killed in turn adds its
   * own). Only if the item is still exactly as `found` (same run, token and checkpoint) and expired
   * (leaseExpired) at `now`; true again when retried after its own success. False when another invocation got
   * there first.
   */
  resume(
    found: LeaseRecord,
    token: string,
    invocation: number,
    now: Date,
    durationMs: number,
    checkpoint: StoredCheckpoint,
  ): Promise<boolean>;
  /**
   * Stores a checkpoint on the lease held by this invocation (`runId` and `token`), leaving its
   * expiry alone. False when the lease is no longer this invocation's (another run took it, or a
   * continuation moved it on). A retried write, or one older than the stored one, changes nothing.
   */
  checkpoint(runId: string, token: string, checkpoint: StoredCheckpoint): Promise<boolean>;
  /**
   * Extends the lease if `runId` still holds it at invocation `fence.from`, and records `fence.to`.
   * False when another run has taken over, or when another copy of the same continuation already
   * moved the run on: Lambda's async queue delivers at least once, and two copies of one
   * continuation must never both sweep. True again when retried after its own success.
   */
  renew(
    runId: string,
    now: Date,
    durationMs: number,
    fence: LeaseFence,
    checkpoint?: StoredCheckpoint,
  ): Promise<boolean>;
  /**
   * Gives the lease up if `runId` holds it; a lease held by another run is left alone. With
   * `owner.token`, only when that invocation's own write is the latest (or, with
   * `owner.orInvocation`, when the run still stands at that invocation: its renew never applied).
   */
  release(runId: string, owner?: { token: string; orInvocation?: number }): Promise<void>;
}

/** `leaseKey` names the item: the sweep's by default; the census keeps its own lease beside it. */
export function createDynamoLeaseStore(
  dynamodb: DynamoDBClient,
  tableName: string,
  leaseKey: string = LEASE_KEY,
): LeaseStore {
  const key = { pk: { S: leaseKey } };
  return {
    async acquire(runId, now, durationMs, checkpoint) {
      const leaseUntil = new Date(now.getTime() + durationMs);
      if (checkpoint) assertSize(checkpoint);
      try {
        await dynamodb.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...key,
              runId: { S: runId },
              token: { S: runId },
              invocation: { N: '1' },
              leaseUntil: { N: String(leaseUntil.getTime()) },
              acquiredAt: { N: String(now.getTime()) },
              ...(checkpoint ? checkpointAttributes(checkpoint, runId) : {}),
            },
            // Expired beyond the clock skew bound (leaseExpired); the last clause: a retry of this
            // very acquire, whose first attempt took effect.
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :expiredBefore OR runId = :runId',
            ExpressionAttributeValues: {
              ':expiredBefore': { N: String(now.getTime() - CLOCK_SKEW_BOUND_MS) },
              ':runId': { S: runId },
            },
          }),
        );
        return { acquired: true, runId, leaseUntil };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const current = await dynamodb.send(
          new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
        );
        const until = current.Item?.leaseUntil?.N;
        const holder = current.Item?.runId?.S;
        if (holder === runId && until !== undefined) {
          return { acquired: true, runId, leaseUntil: new Date(Number(until)) };
        }
        return {
          acquired: false,
          holder,
          leaseUntil: until === undefined ? undefined : new Date(Number(until)),
        };
      }
    },

    async renew(runId, now, durationMs, fence, checkpoint) {
      const token = fence.token;
      if (checkpoint) assertSize(checkpoint);
      if (checkpoint && token === undefined) throw new Error('a checkpoint is written under a token');
      const storing = checkpoint
        ? ', checkpoint = :checkpoint, checkpointSeq = :seq, checkpointBy = :token'
        : '';
      return conditionalWrite(
        dynamodb,
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression:
            token === undefined
              ? 'SET leaseUntil = :until, invocation = :to'
              : `SET leaseUntil = :until, invocation = :to, #token = :token${storing}`,
          // Either the run stands where this invocation found it, or this invocation's own write
          // (a retry after its lost answer) already moved it on.
          ConditionExpression:
            token === undefined
              ? 'runId = :runId AND invocation = :from'
              : 'runId = :runId AND (invocation = :from OR (invocation = :to AND #token = :token))',
          ...(token === undefined ? {} : { ExpressionAttributeNames: { '#token': 'token' } }),
          ExpressionAttributeValues: {
            ':until': { N: String(now.getTime() + durationMs) },
            ':runId': { S: runId },
            ':from': { N: String(fence.from) },
            ':to': { N: String(fence.to) },
            ...(token === undefined ? {} : { ':token': { S: token } }),
            ...(checkpoint
              ? { ':checkpoint': { S: checkpoint.body }, ':seq': { N: String(checkpoint.seq) } }
              : {}),
          },
        }),
      );
    },

    async read() {
      const current = await dynamodb.send(
        new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
      );
      const item = current.Item;
      const runId = item?.runId?.S;
      const until = item?.leaseUntil?.N;
      if (item === undefined || runId === undefined || until === undefined) return undefined;
      const record: LeaseRecord = {
        runId,
        token: item.token?.S ?? runId,
        invocation: Number(item.invocation?.N ?? 1),
        leaseUntil: new Date(Number(until)),
      };
      const body = item.checkpoint?.S;
      const seq = item.checkpointSeq?.N;
      if (body !== undefined && seq !== undefined) {
        record.checkpoint = { body, seq: Number(seq), by: item.checkpointBy?.S ?? '' };
      }
      return record;
    },

    async resume(found, token, invocation, now, durationMs, checkpoint) {
      if (!found.checkpoint) throw new Error('only a lease that carries a checkpoint is resumed');
      assertSize(checkpoint);
      return conditionalWrite(
        dynamodb,
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression:
            'SET leaseUntil = :until, invocation = :to, #token = :token, checkpoint = :checkpoint, checkpointSeq = :newSeq, checkpointBy = :token',
          // Still exactly what was read, and expired (leaseExpired); or this very takeover, retried.
          ConditionExpression:
            'runId = :runId AND ((#token = :found AND leaseUntil < :expiredBefore AND checkpointSeq = :seq AND checkpointBy = :by) OR (#token = :token AND invocation = :to))',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: {
            ':until': { N: String(now.getTime() + durationMs) },
            ':runId': { S: found.runId },
            ':found': { S: found.token },
            ':expiredBefore': { N: String(now.getTime() - CLOCK_SKEW_BOUND_MS) },
            ':seq': { N: String(found.checkpoint.seq) },
            ':by': { S: found.checkpoint.by },
            ':token': { S: token },
            ':to': { N: String(invocation) },
            ':checkpoint': { S: checkpoint.body },
            ':newSeq': { N: String(checkpoint.seq) },
          },
        }),
      );
    },

    async checkpoint(runId, token, checkpoint) {
      assertSize(checkpoint);
      return conditionalWrite(
        dynamodb,
        new UpdateItemCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET checkpoint = :checkpoint, checkpointSeq = :seq, checkpointBy = :token',
          // Held by this invocation; and never over a later checkpoint of its own (a retry of this
          // write finds its own, equal seq, and succeeds without changing anything).
          ConditionExpression:
            'runId = :runId AND #token = :token AND (attribute_not_exists(checkpointBy) OR checkpointBy <> :token OR checkpointSeq <= :seq)',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: {
            ':runId': { S: runId },
            ':token': { S: token },
            ':checkpoint': { S: checkpoint.body },
            ':seq': { N: String(checkpoint.seq) },
          },
        }),
      );
    },

    async release(runId, owner) {
      const ownership =
        owner === undefined
          ? ''
          : owner.orInvocation === undefined
            ? ' AND #token = :token'
            : ' AND (#token = :token OR invocation = :invocation)';
      try {
        // A retried release whose first attempt took effect finds no item and fails its condition:
        // that is success, the lease is free.
        await dynamodb.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: key,
            ConditionExpression: `runId = :runId${ownership}`,
            ...(owner === undefined ? {} : { ExpressionAttributeNames: { '#token': 'token' } }),
            ExpressionAttributeValues: {
              ':runId': { S: runId },
              ...(owner === undefined ? {} : { ':token': { S: owner.token } }),
              ...(owner?.orInvocation === undefined
                ? {}
                : { ':invocation': { N: String(owner.orInvocation) } }),
            },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}

/**
 * Sends a conditional write: true when it applied, false when its condition failed
 * (ConditionalCheckFailedException); any other error is thrown.
 */
async function conditionalWrite(dynamodb: DynamoDBClient, command: UpdateItemCommand): Promise<boolean> {
  try {
    await dynamodb.send(command);
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

function checkpointAttributes(checkpoint: StoredCheckpoint, token: string) {
  return {
    checkpoint: { S: checkpoint.body },
    checkpointSeq: { N: String(checkpoint.seq) },
    checkpointBy: { S: token },
  };
}

function assertSize(checkpoint: StoredCheckpoint): void {
  const bytes = Buffer.byteLength(checkpoint.body, 'utf8');
  if (bytes > MAX_CHECKPOINT_BYTES) {
    throw new Error(`a checkpoint of ${bytes} bytes is over the ${MAX_CHECKPOINT_BYTES}-byte bound`);
  }
}
