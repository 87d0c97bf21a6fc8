// The tombstone store: before the sweep deletes a schedule, its full GetSchedule definition is written
// to a DynamoDB table the stack owns (encrypted, retained, expiring by TTL). No tombstone, no delete:
// the write must be acknowledged before DeleteSchedule is sent, and the outcome of the delete is
// recorded on the tombstone afterwards, so no record claims a deletion that was not applied. Both go
// out in BatchWriteItem calls of up to 25 items: the outcome is the tombstone put again with it.
//
// Item layout (one table, composite key pk/sk; see src/tombstone/README.md):
//   tombstone    pk = g#<group>#<shard>        sk = <name>#<deletedAt>     the definition and outcome
//   by sweep     pk = r#<runId>#<shard>        sk = <group>#<name>#<deletedAt>   a pointer
//   by day       pk = d#<yyyy-mm-dd>#<shard>   sk = <deletedAt>#<group>#<name>   a pointer
// The shard (0-7, from the schedule's group/name) spreads one busy group or sweep over eight
// partition keys, so a sweep deleting 1,000/s never meets DynamoDB's 1,000 WCU/s per-partition limit.
// Schedule and group names never contain '#', so the separators are unambiguous.
// Every tombstone item carries its proof of origin (src/tombstone/origin.ts, v2): each BatchWriteItem
// call's items are signed with the store's own Ed25519 key, which a GenerateMac of the sweep's KMS
// HMAC key certifies for each run and hour of deletions (about once per invocation). Restore
// recreates nothing that does not verify.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import pLimit from 'p-limit';
import { isThrottling, isTransient } from '../aws/budget.ts';
import { NAME_PATTERN } from '../schedule/name.ts';
import {
  type ScheduleDefinition,
  serializeDefinition,
  sha256,
  type TombstoneEntry,
  TombstoneOutcome,
  type TombstoneReceipt,
  type TombstoneWriter,
} from '../sweep/tombstones.ts';
import { createTombstoneSigner, type MacKey, withoutOrigin } from './origin.ts';

export type { ScheduleDefinition, TombstoneEntry, TombstoneReceipt, TombstoneWriter };
export { serializeDefinition, sha256, TombstoneOutcome };

/** The outcome a stored tombstone holds: `pending` from its write until the delete is settled. */
export const PENDING = 'pending';
export type StoredOutcome = TombstoneOutcome | typeof PENDING;

/** Where this store put a tombstone: its key (`<pk>|<sk>`), its fingerprint and its time. */
export interface StoredReceipt extends TombstoneReceipt {
  sha256: string;
  deletedAt: string;
}

export const TOMBSTONE_SHARDS = 8;
export const DEFAULT_RETENTION_DAYS = 365;
const BATCH_WRITE_LIMIT = 25;
const ITEMS_PER_TOMBSTONE = 3;
/** How long a tombstone write waits for others to share its BatchWriteItem call. */
const DEFAULT_LINGER_MS = 5;
/**
 * How long an outcome waits for others (or for room in a tombstone call) before a call of outcomes
 * alone is sent. No delete waits on an outcome, so outcomes go out in full calls of 25 where they
 * can: fewer BatchWriteItem calls and fewer GenerateMac calls. An invocation killed meanwhile leaves
 * those tombstones `pending`, which restore shows as needing a choice (docs/restore.md).
 */
export const OUTCOME_LINGER_MS = 1_000;
const MAX_ROUNDS = 6;
const DAY_MS = 86_400_000;

export interface DynamoTombstoneOptions {
  tableName: string;
  /**
   * The KMS HMAC key that certifies the store's signing key (only the sweep's role may GenerateMac
   * with it): one GenerateMac per run and hour of deletions the store writes.
   */
  mac: MacKey;
  /** The table's ARN, which every proof of origin covers (origin.ts tableArnFor). */
  tableArn: string;
  clock: () => Date;
  retentionDays?: number;
  lingerMs?: number;
  /** Default OUTCOME_LINGER_MS. */
  outcomeLingerMs?: number;
  /** BatchWriteItem / UpdateItem calls in flight at once. */
  concurrency?: number;
  /** Told about outcome writes that failed (the tombstone itself stays, with outcome pending). */
  onError?: (error: unknown, receipt: TombstoneReceipt) => void;
  sleep?: (ms: number) => Promise<void>;
}

export function shardOf(group: string, name: string): number {
  return (createHash('sha256').update(`${group}/${name}`).digest()[0] ?? 0) % TOMBSTONE_SHARDS;
}

export const tombstonePartition = (group: string, shard: number) => `g#${group}#${shard}`;
export const runPartition = (runId: string, shard: number) => `r#${runId}#${shard}`;
export const dayPartition = (day: string, shard: number) => `d#${day}#${shard}`;

/** A tombstone key as the store writes it: `g#<group>#<shard>|<name>#<time>`. */
const TOMBSTONE_KEY = /^g#([^#|]+)#(\d)\|([^#|]+)#(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/;

/**
 * The group, name and deletion time a tombstone key (`pk|sk`) holds, when it is one the store could
 * have written: names as the API model allows them, the shard they hash to, the time an instant as
 * `Date.toISOString()` writes it. Undefined for any other string (every such key names no tombstone).
 */
export function parseTombstoneKey(
  key: string,
): { group: string; name: string; deletedAt: string } | undefined {
  const [, group = '', shard, name = '', deletedAt = ''] = TOMBSTONE_KEY.exec(key) ?? [];
  if (shard === undefined || !NAME_PATTERN.test(group) || !NAME_PATTERN.test(name)) return undefined;
  if (Number(shard) !== shardOf(group, name)) return undefined;
  const instant = new Date(deletedAt);
  if (Number.isNaN(instant.getTime()) || instant.toISOString() !== deletedAt) return undefined;
  return { group, name, deletedAt };
}

/** The fields of a tombstone that place it and its two pointers (all signed with the tombstone). */
export interface TombstonePlace {
  group: string;
  name: string;
  /** ISO instant, as `Date.toISOString()` writes it. */
  deletedAt: string;
  runId: string;
}

/** An item's key: its partition key and sort key. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** An item key as one string, `pk|sk`, as tombstone keys are logged (splitKey undoes it). */
export const joinKey = (key: ItemKey) => `${key.pk}|${key.sk}`;

/**
 * Where a tombstone's two pointers are: by sweep run and by day. The only places the store writes
 * them; restore follows a pointer only from one of these for the tombstone it names
 * (src/tombstone/query.ts), so a pointer put anywhere else cannot make restore meet an older
 * tombstone of a schedule first.
 */
export function pointerKeys(
  place: TombstonePlace,
  shard = shardOf(place.group, place.name),
): { byRun: ItemKey; byDay: ItemKey } {
  const { group, name, deletedAt, runId } = place;
  return {
    byRun: { pk: runPartition(runId, shard), sk: `${group}#${name}#${deletedAt}` },
    byDay: { pk: dayPartition(deletedAt.slice(0, 10), shard), sk: `${deletedAt}#${group}#${name}` },
  };
}

/**
 * Definitions larger than this (UTF-8 bytes) are stored gzip-compressed (`definitionGzip`, binary)
 * instead of as text (`definition`). DynamoDB's item limit is 400 KB, attribute names included
 * (DynamoDB developer guide, "Service, account, and table quotas"); a definition's target parameters
 * can approach it once serialized as JSON, and a schedule that cannot be tombstoned can never be
 * deleted. Compressed, such JSON shrinks many times over; the SHA-256 stays that of the text.
 */
export const COMPRESS_DEFINITIONS_OVER_BYTES = 64 * 1024;

function storedDefinition(body: string): Record<string, AttributeValue> {
  if (Buffer.byteLength(body, 'utf8') <= COMPRESS_DEFINITIONS_OVER_BYTES) return { definition: { S: body } };
  return { definitionGzip: { B: gzipSync(body) } };
}

export function createDynamoTombstoneStore(
  dynamodb: DynamoDBClient,
  options: DynamoTombstoneOptions,
): TombstoneWriter {
  const { tableName, clock } = options;
  const { tableArn } = options;
  const retentionMs = (options.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_MS;
  const lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
  const outcomeLingerMs = options.outcomeLingerMs ?? OUTCOME_LINGER_MS;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const limit = pLimit(options.concurrency ?? 8);
  const signer = createTombstoneSigner(options.mac, tableArn);
  const inFlight = new Set<Promise<unknown>>();
  /** A tombstone waiting for its write: its three items, and the sweep waiting on it. */
  type Waiting = { requests: WriteRequest[]; resolve: () => void; reject: (error: unknown) => void };
  /** An outcome waiting for its write: the whole tombstone item again, with the outcome set. */
  type Outcome = { request: WriteRequest; receipt: TombstoneReceipt };
  const tombstoneQueue: Waiting[] = [];
  const outcomeQueue: Outcome[] = [];
  /**
   * The tombstone item of every write acknowledged and not yet settled, by receipt key: its outcome is
   * written as this item again. As many as the sweep has deletes in flight (its concurrency).
   */
  const unsettled = new Map<string, Record<string, AttributeValue>>();
  let timer: NodeJS.Timeout | undefined;
  let outcomeTimer: NodeJS.Timeout | undefined;

  const track = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    void promise.then(
      () => inFlight.delete(promise),
      () => inFlight.delete(promise),
    );
    return promise;
  };

  /**
   * Sends a request again (with exponential backoff, at most MAX_ROUNDS times in all) while DynamoDB
   * throttles it or answers 5xx or the connection fails: every request here is idempotent (puts of the
   * same items), so a retry of one that was in fact applied does no harm.
   */
  const retrying = async <T>(request: () => Promise<T>): Promise<T> => {
    for (let round = 0; ; round++) {
      try {
        return await request();
      } catch (error) {
        if (
          round + 1 >= MAX_ROUNDS ||
          !(isThrottling(error) || isTransient(error) || isDynamoThrottling(error))
        ) {
          throw error;
        }
        await sleep(25 * 2 ** (round + 1));
      }
    }
  };

  const send = async (tombstones: Waiting[], outcomes: Outcome[]) => {
    let unprocessed = [
      ...tombstones.flatMap((waiting) => waiting.requests),
      ...outcomes.map((outcome) => outcome.request),
    ];
    try {
      // Every tombstone item of this call signed (outcomes are tombstone items too; origin.ts groups
      // them), before any of them is sent: an item is never stored without its proof of origin.
      const signed = unprocessed.flatMap((request) => {
        const item = request.PutRequest?.Item;
        return item?.kind?.S === 'tombstone' ? [item] : [];
      });
      await retrying(() => signer.sign(signed));
      for (let round = 0; unprocessed.length > 0; round++) {
        if (round >= MAX_ROUNDS) {
          throw new Error(`Tombstone table ${tableName} left ${unprocessed.length} writes unprocessed`);
        }
        if (round > 0) await sleep(25 * 2 ** round);
        const pendingItems = unprocessed;
        const result = await retrying(() =>
          dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pendingItems } })),
        );
        unprocessed = result.UnprocessedItems?.[tableName] ?? [];
      }
      for (const waiting of tombstones) waiting.resolve();
    } catch (error) {
      // All or nothing per call: a tombstone whose write may have failed counts as not written, and
      // an outcome as not recorded (its tombstone keeps the outcome it had).
      for (const waiting of tombstones) waiting.reject(error);
      for (const outcome of outcomes) options.onError?.(error, outcome.receipt);
    }
  };

  const queuedItems = () => tombstoneQueue.length * ITEMS_PER_TOMBSTONE + outcomeQueue.length;
  /** Whether the queued tombstones fill a call: no room left for another. */
  const tombstonesFull = () =>
    tombstoneQueue.length * ITEMS_PER_TOMBSTONE + ITEMS_PER_TOMBSTONE > BATCH_WRITE_LIMIT;
  const sendNext = () => {
    const tombstones = tombstoneQueue.splice(0, Math.floor(BATCH_WRITE_LIMIT / ITEMS_PER_TOMBSTONE));
    const room = BATCH_WRITE_LIMIT - tombstones.length * ITEMS_PER_TOMBSTONE;
    const outcomes = outcomeQueue.splice(0, room);
    void track(limit(() => send(tombstones, outcomes)));
  };
  const stop = (handle: NodeJS.Timeout | undefined) => {
    if (handle) clearTimeout(handle);
    return undefined;
  };

  /**
   * Sends what is due, 25 items at most per BatchWriteItem: tombstones first (a delete waits on each),
   * outcomes filling the room they leave. Tombstones go in full calls, or all of them once their
   * linger (lingerMs) ran out; outcomes alone go in full calls, or all of them once theirs
   * (outcomeLingerMs) ran out; `everything` (a flush) sends all that is queued.
   */
  const drain = (due: { tombstones: boolean; outcomes: boolean }) => {
    if (due.tombstones) timer = stop(timer);
    if (due.outcomes) outcomeTimer = stop(outcomeTimer);
    while (tombstonesFull() || (due.tombstones && tombstoneQueue.length > 0)) sendNext();
    while (outcomeQueue.length >= BATCH_WRITE_LIMIT || (due.outcomes && outcomeQueue.length > 0)) sendNext();
    // A timer runs only while something waits for it: one whose queue a call emptied is cleared, so
    // no timer outlives a flush.
    if (tombstoneQueue.length > 0)
      timer ??= setTimeout(() => drain({ tombstones: true, outcomes: false }), lingerMs);
    else timer = stop(timer);
    if (outcomeQueue.length > 0)
      outcomeTimer ??= setTimeout(() => drain({ tombstones: false, outcomes: true }), outcomeLingerMs);
    else outcomeTimer = stop(outcomeTimer);
  };
  const NOTHING_DUE = { tombstones: false, outcomes: false };
  const EVERYTHING = { tombstones: true, outcomes: true };

  return {
    write(entry) {
      const { definition } = entry;
      const group = definition.GroupName ?? 'default';
      const name = definition.Name ?? '';
      const now = clock();
      const deletedAt = now.toISOString();
      const body = serializeDefinition(definition);
      const fingerprint = sha256(body);
      const shard = shardOf(group, name);
      const pk = tombstonePartition(group, shard);
      const sk = `${name}#${deletedAt}`;
      const ttl = { N: String(Math.floor((now.getTime() + retentionMs) / 1000)) };
      const common: Record<string, AttributeValue> = {
        group: { S: group },
        name: { S: name },
        deletedAt: { S: deletedAt },
        runId: { S: entry.runId },
        ttl,
      };
      const pointer = (at: ItemKey): WriteRequest => ({
        PutRequest: {
          Item: {
            pk: { S: at.pk },
            sk: { S: at.sk },
            kind: { S: 'pointer' },
            tpk: { S: pk },
            tsk: { S: sk },
            ...common,
          },
        },
      });
      const tombstone: Record<string, AttributeValue> = {
        pk: { S: pk },
        sk: { S: sk },
        kind: { S: 'tombstone' },
        ...common,
        arn: { S: definition.Arn ?? '' },
        finishedAt: { S: entry.finishedAt.toISOString() },
        stuck: { BOOL: entry.stuck },
        ...storedDefinition(body),
        sha256: { S: fingerprint },
        outcome: { S: PENDING },
      };
      const pointers = pointerKeys({ group, name, deletedAt, runId: entry.runId }, shard);
      const requests: WriteRequest[] = [
        { PutRequest: { Item: tombstone } },
        pointer(pointers.byRun),
        pointer(pointers.byDay),
      ];
      if (requests.length !== ITEMS_PER_TOMBSTONE) throw new Error('tombstone layout changed');
      const receipt: StoredReceipt = { key: `${pk}|${sk}`, sha256: fingerprint, deletedAt };
      const written = new Promise<void>((resolve, reject) =>
        tombstoneQueue.push({ requests, resolve, reject }),
      );
      drain(NOTHING_DUE);
      return track(
        written.then(() => {
          unsettled.set(receipt.key, tombstone);
          return receipt;
        }),
      );
    },

    settle(receipt, outcome) {
      const tombstone = unsettled.get(receipt.key);
      unsettled.delete(receipt.key);
      if (!tombstone) {
        // Only a tombstone this store wrote and acknowledged gets an outcome: never a stray item.
        options.onError?.(
          new Error(`No tombstone written by this store under ${receipt.key}: its outcome is not recorded`),
          receipt,
        );
        return;
      }
      // The tombstone put again whole, with its outcome: the same item the write stored (written
      // before this, since the delete waited for it), so a retry of either put leaves no other item.
      // It is signed again when it is sent, over the outcome too.
      const item = {
        ...withoutOrigin(tombstone),
        outcome: { S: outcome },
        outcomeAt: { S: clock().toISOString() },
      };
      outcomeQueue.push({ request: { PutRequest: { Item: item } }, receipt });
      drain(NOTHING_DUE);
    },

    async flush() {
      // An outcome queued while this waits (a delete settling late) is sent too.
      while (inFlight.size > 0 || queuedItems() > 0) {
        drain(EVERYTHING);
        await Promise.allSettled([...inFlight]);
      }
    },
  };
}

/** DynamoDB's own names for throttling (on-demand tables answer these with 400, not 429). */
function isDynamoThrottling(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'ProvisionedThroughputExceededException' || name === 'RequestLimitExceeded';
}

export function splitKey(key: string): [string, string] {
  const at = key.indexOf('|');
  if (at <= 0 || at === key.length - 1) {
    throw new Error(`A tombstone key looks like g#<group>#<shard>|<name>#<time>, got '${key}'`);
  }
  return [key.slice(0, at), key.slice(at + 1)];
}
