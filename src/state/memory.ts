// What earlier lookups taught, so a sweep of a mostly unchanged account need not call GetSchedule
// for every schedule again. One DynamoDB item per schedule, keyed by ARN and valid only for the
// LastModificationDate it was learned at: any change to the schedule forces a fresh lookup.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

/** One write of a BatchWriteItem, with plain values (the document client marshals them). */
type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];
/** A stored item as plain values: strings, numbers, booleans. */
type StoredItem = Record<string, unknown>;

/**
 * Bumped whenever the decision rules change meaning, so knowledge kept by an older version is
 * not trusted (it is looked up again instead).
 */
export const MEMORY_VERSION = 1;

export type Remembered =
  /**
   * A one-time schedule that is not finished before `dueAt` (grace not included: it is applied on
   * recall). `disabled` because a run that keeps disabled schedules must judge it afresh.
   */
  | { kind: 'oneTime'; lastModified: number; dueAt: number; disabled: boolean }
  | { kind: 'recurring'; lastModified: number }
  /** Kept because the definition could not be judged (unknown zone, bad expression...): unchanged, it stays so. */
  | { kind: 'skipped'; lastModified: number; reason: string };

export interface ScheduleMemory {
  /** Knowledge for these ARNs, only where it was learned at the given LastModificationDate. */
  recall(keys: { arn: string; lastModified: number }[]): Promise<Map<string, Remembered>>;
  /** Queues what a lookup taught; written in batches. */
  remember(arn: string, knowledge: Remembered): Promise<void>;
  /** Queues removal (the schedule was deleted). */
  forget(arn: string): Promise<void>;
  /** Writes everything queued. */
  flush(): Promise<void>;
  readonly stats: { reads: number; writes: number; requests: number };
}

const BATCH_GET_LIMIT = 100;
const BATCH_WRITE_LIMIT = 25;
const MAX_ROUNDS = 8;
const DAY_MS = 86_400_000;

export interface DynamoMemoryOptions {
  tableName: string;
  clock: () => Date;
  /** How long knowledge of a recurring or skipped schedule lives before it is looked up again anyway. */
  recheckAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export function createDynamoMemory(client: DynamoDBClient, options: DynamoMemoryOptions): ScheduleMemory {
  const { tableName, clock } = options;
  // The document client marshals plain values to DynamoDB's typed attributes and back.
  const dynamodb = DynamoDBDocumentClient.from(client);
  const recheckAfterMs = options.recheckAfterMs ?? 30 * DAY_MS;
  const expired = (item: StoredItem) => Number(item.ttl) * 1000 <= clock().getTime();
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const stats = { reads: 0, writes: 0, requests: 0 };
  let pending: WriteRequest[] = [];

  const writeBatch = async (requests: WriteRequest[]) => {
    let unprocessed: WriteRequest[] = requests;
    for (let round = 0; unprocessed.length > 0; round++) {
      if (round >= MAX_ROUNDS)
        throw new Error(`State table ${tableName} left ${unprocessed.length} writes unprocessed`);
      if (round > 0) await sleep(50 * 2 ** round);
      stats.requests += 1;
      const result = await dynamodb.send(
        new BatchWriteCommand({ RequestItems: { [tableName]: unprocessed } }),
      );
      unprocessed = result.UnprocessedItems?.[tableName] ?? [];
    }
    stats.writes += requests.length;
  };

  const enqueue = async (request: WriteRequest) => {
    pending.push(request);
    if (pending.length >= BATCH_WRITE_LIMIT) {
      const batch = pending;
      pending = [];
      await writeBatch(batch);
    }
  };

  return {
    stats,

    async recall(keys) {
      const found = new Map<string, Remembered>();
      const wanted = new Map(keys.map((key) => [key.arn, key.lastModified]));
      const arns = [...wanted.keys()];
      for (let start = 0; start < arns.length; start += BATCH_GET_LIMIT) {
        let requestKeys: StoredItem[] = arns
          .slice(start, start + BATCH_GET_LIMIT)
          .map((arn) => ({ pk: itemKey(arn) }));
        for (let round = 0; requestKeys.length > 0; round++) {
          if (round >= MAX_ROUNDS) break; // what is not read is simply looked up again
          if (round > 0) await sleep(50 * 2 ** round);
          stats.requests += 1;
          const result = await dynamodb.send(
            new BatchGetCommand({ RequestItems: { [tableName]: { Keys: requestKeys } } }),
          );
          for (const item of result.Responses?.[tableName] ?? []) {
            stats.reads += 1;
            // DynamoDB deletes expired items only eventually; until then they must not be trusted.
            const parsed = expired(item) ? undefined : fromItem(item);
            if (!parsed) continue;
            if (wanted.get(parsed.arn) === parsed.knowledge.lastModified)
              found.set(parsed.arn, parsed.knowledge);
          }
          requestKeys = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
        }
      }
      return found;
    },

    remember(arn, knowledge) {
      const now = clock().getTime();
      const expiresAt =
        knowledge.kind === 'oneTime' ? Math.max(knowledge.dueAt, now) + 7 * DAY_MS : now + recheckAfterMs;
      return enqueue({ PutRequest: { Item: toItem(arn, knowledge, expiresAt) } });
    },

    forget(arn) {
      return enqueue({ DeleteRequest: { Key: { pk: itemKey(arn) } } });
    },

    async flush() {
      while (pending.length > 0) {
        const batch = pending.slice(0, BATCH_WRITE_LIMIT);
        pending = pending.slice(BATCH_WRITE_LIMIT);
        await writeBatch(batch);
      }
    },
  };
}

const itemKey = (arn: string) => `schedule#${arn}`;

function toItem(arn: string, knowledge: Remembered, expiresAt: number): StoredItem {
  const item: StoredItem = {
    pk: itemKey(arn),
    v: MEMORY_VERSION,
    k: knowledge.kind,
    lm: knowledge.lastModified,
    // DynamoDB TTL (epoch seconds) removes entries of schedules that vanished without us.
    ttl: Math.ceil(expiresAt / 1000),
  };
  if (knowledge.kind === 'oneTime') {
    item.due = knowledge.dueAt;
    item.d = knowledge.disabled;
  }
  if (knowledge.kind === 'skipped') item.r = knowledge.reason;
  return item;
}

function fromItem(item: StoredItem): { arn: string; knowledge: Remembered } | undefined {
  const key = item.pk;
  if (typeof key !== 'string' || !key.startsWith('schedule#') || item.v !== MEMORY_VERSION) return undefined;
  const arn = key.slice('schedule#'.length);
  const lastModified = item.lm;
  if (typeof lastModified !== 'number' || !Number.isFinite(lastModified)) return undefined;
  switch (item.k) {
    case 'oneTime': {
      const dueAt = item.due;
      const disabled = item.d;
      return typeof dueAt === 'number' && Number.isFinite(dueAt) && typeof disabled === 'boolean'
        ? { arn, knowledge: { kind: 'oneTime', lastModified, dueAt, disabled } }
        : undefined;
    }
    case 'recurring':
      return { arn, knowledge: { kind: 'recurring', lastModified } };
    case 'skipped':
      return typeof item.r === 'string' && item.r !== ''
        ? { arn, knowledge: { kind: 'skipped', lastModified, reason: item.r } }
        : undefined;
    default:
      return undefined;
  }
}
