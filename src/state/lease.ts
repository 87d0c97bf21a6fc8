// The sweep lease: one item in the state table that says which sweep run owns the account right now.
// A cron tick that finds a live lease does nothing, so two sweeps never run at once, and a chain of
// continuation invocations keeps the lease by renewing it. A crashed run's lease simply expires.
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

export interface LeaseStore {
  /** Takes the lease for `runId` (its token is the runId). A retry of a successful acquire succeeds. */
  acquire(runId: string, now: Date, durationMs: number): Promise<LeaseResult>;
  /**
   * Extends the lease if `runId` still holds it at invocation `fence.from`, and records `fence.to`.
   * False when another run has taken over, or when another copy of the same continuation already
   * moved the run on: Lambda's async queue delivers at least once, and two copies of one
   * continuation must never both sweep. True again when retried after its own success.
   */
  renew(runId: string, now: Date, durationMs: number, fence: LeaseFence): Promise<boolean>;
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
    async acquire(runId, now, durationMs) {
      const leaseUntil = new Date(now.getTime() + durationMs);
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
            },
            // The last clause: a retry of this very acquire, whose first attempt took effect.
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now OR runId = :runId',
            ExpressionAttributeValues: { ':now': { N: String(now.getTime()) }, ':runId': { S: runId } },
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

    async renew(runId, now, durationMs, fence) {
      const token = fence.token;
      try {
        await dynamodb.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression:
              token === undefined
                ? 'SET leaseUntil = :until, invocation = :to'
                : 'SET leaseUntil = :until, invocation = :to, #token = :token',
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
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
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
