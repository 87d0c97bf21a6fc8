// The sweep lease: one item in the state table that says which sweep run owns the account right now.
// A cron tick that finds a live lease does nothing, so two sweeps never run at once, and a chain of
// continuation invocations keeps the lease by renewing it. A crashed run's lease simply expires.
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

export interface LeaseStore {
  acquire(runId: string, now: Date, durationMs: number): Promise<LeaseResult>;
  /**
   * Extends the lease if `runId` still holds it at invocation `fence.from`, and records `fence.to`.
   * False when another run has taken over, or when another copy of the same continuation already
   * moved the run on: Lambda's async queue delivers at least once, and two copies of one
   * continuation must never both sweep.
   */
  renew(runId: string, now: Date, durationMs: number, fence: { from: number; to: number }): Promise<boolean>;
  /** Gives the lease up if `runId` holds it; a lease held by another run is left alone. */
  release(runId: string): Promise<void>;
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
              invocation: { N: '1' },
              leaseUntil: { N: String(leaseUntil.getTime()) },
              acquiredAt: { N: String(now.getTime()) },
            },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now',
            ExpressionAttributeValues: { ':now': { N: String(now.getTime()) } },
          }),
        );
        return { acquired: true, runId, leaseUntil };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const current = await dynamodb.send(
          new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }),
        );
        const until = current.Item?.leaseUntil?.N;
        return {
          acquired: false,
          holder: current.Item?.runId?.S,
          leaseUntil: until === undefined ? undefined : new Date(Number(until)),
        };
      }
    },

    async renew(runId, now, durationMs, fence) {
      try {
        await dynamodb.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: key,
            UpdateExpression: 'SET leaseUntil = :until, invocation = :to',
            ConditionExpression: 'runId = :runId AND invocation = :from',
            ExpressionAttributeValues: {
              ':until': { N: String(now.getTime() + durationMs) },
              ':runId': { S: runId },
              ':from': { N: String(fence.from) },
              ':to': { N: String(fence.to) },
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },

    async release(runId) {
      try {
        await dynamodb.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: key,
            ConditionExpression: 'runId = :runId',
            ExpressionAttributeValues: { ':runId': { S: runId } },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
