// Finding tombstones by the keys an operator knows: a group (with a name or name prefix), a sweep run,
// a time range, or one exact key. Streams what it finds, a DynamoDB page at a time; never scans.

import { gunzipSync } from 'node:zlib';
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { isNotFound } from '../aws/budget.ts';
import { HygieneError, InputError } from '../errors.ts';
import {
  dayPartition,
  joinKey,
  parseTombstoneKey,
  pointerKeys,
  runPartition,
  type ScheduleDefinition,
  shardOf,
  splitKey,
  TOMBSTONE_SHARDS,
  tombstonePartition,
} from './store.ts';

export interface TombstoneQuery {
  /** One tombstone by the key a log line carries (`g#<group>#<shard>|<name>#<time>`). */
  key?: string;
  group?: string;
  /** An exact schedule name (needs group or runId or a time range). */
  name?: string;
  namePrefix?: string;
  runId?: string;
  /** Deleted at or after this instant. */
  from?: Date;
  /** Deleted at or before this instant. */
  to?: Date;
}

export interface Tombstone {
  key: string;
  group: string;
  name: string;
  arn: string;
  deletedAt: string;
  runId: string;
  finishedAt: string;
  stuck: boolean;
  /** The stored JSON, exactly as written (its SHA-256 is `sha256`). */
  body: string;
  sha256: string;
  /** What became of the delete, as stored: a StoredOutcome when the store wrote it, else anything. */
  outcome: string;
  outcomeAt?: string;
  /**
   * The item as read, every attribute included: its MAC is checked against exactly these
   * (src/tombstone/origin.ts) before restore uses any of the fields above. Holds target content:
   * never logged or printed.
   */
  stored: Record<string, AttributeValue>;
}

/** A table restore reads or writes does not exist (DynamoDB answered ResourceNotFoundException). */
export class TableNotFoundError extends HygieneError {
  constructor(
    readonly kind: 'tombstone' | 'state',
    readonly table: string,
    readonly region: string,
    cause?: unknown,
  ) {
    super(`${kind} table '${table}' not found in ${region}`, { cause });
  }
}

const BATCH_GET_LIMIT = 100;

/** Parses a tombstone's definition back, with the date members as Dates again. */
export function definitionOf(tombstone: Pick<Tombstone, 'body'>): ScheduleDefinition {
  const parsed = JSON.parse(tombstone.body) as Record<string, unknown>;
  for (const field of ['StartDate', 'EndDate', 'CreationDate', 'LastModificationDate']) {
    if (typeof parsed[field] === 'string') parsed[field] = new Date(parsed[field] as string);
  }
  return parsed as ScheduleDefinition;
}

/**
 * Every live tombstone matching the query, each schedule's newest first: a group's partitions and
 * the pointer partitions are read newest first (ScanIndexForward false), all of one schedule's
 * tombstones share a shard, and time ranges go newest day first. A run or time range is read through
 * pointer items, which carry no proof of origin: a pointer counts only where the tombstone it names
 * puts its pointers (store.ts, pointerKeys); any other pointer, or one naming no key the store could
 * write, is passed to `onMisplacedPointer` (as `pk|sk`) and not followed. Throws InputError when the
 * query names no key to search by, TableNotFoundError when the table does not exist.
 */
export async function* findTombstones(
  dynamodb: DynamoDBClient,
  tableName: string,
  query: TombstoneQuery,
  clock: () => Date,
  onMisplacedPointer?: (pointer: string) => void,
): AsyncGenerator<Tombstone> {
  try {
    yield* find(dynamodb, tableName, query, clock, onMisplacedPointer);
  } catch (error) {
    if (isNotFound(error)) {
      throw new TableNotFoundError('tombstone', tableName, await dynamodb.config.region(), error);
    }
    throw error;
  }
}

async function* find(
  dynamodb: DynamoDBClient,
  tableName: string,
  query: TombstoneQuery,
  clock: () => Date,
  onMisplacedPointer: ((pointer: string) => void) | undefined,
): AsyncGenerator<Tombstone> {
  const live = (item: Record<string, AttributeValue>) => Number(item.ttl?.N) * 1000 > clock().getTime();
  const matches = (tombstone: Tombstone) =>
    (query.name === undefined || tombstone.name === query.name) &&
    (query.namePrefix === undefined || tombstone.name.startsWith(query.namePrefix)) &&
    (query.group === undefined || tombstone.group === query.group) &&
    (query.runId === undefined || tombstone.runId === query.runId) &&
    (query.from === undefined || tombstone.deletedAt >= query.from.toISOString()) &&
    (query.to === undefined || tombstone.deletedAt <= query.to.toISOString());

  if (query.key !== undefined) {
    const [pk, sk] = splitKey(query.key);
    const found = await dynamodb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: pk }, sk: { S: sk } },
        ConsistentRead: true,
      }),
    );
    if (found.Item && live(found.Item)) yield fromItem(found.Item);
    return;
  }

  if (query.group !== undefined) {
    const shards =
      query.name !== undefined ? [shardOf(query.group, query.name)] : [...Array(TOMBSTONE_SHARDS).keys()];
    const prefix = query.name !== undefined ? `${query.name}#` : query.namePrefix;
    for (const shard of shards) {
      for await (const item of queryPartition(dynamodb, tableName, tombstonePartition(query.group, shard), {
        prefix,
      })) {
        if (!live(item)) continue;
        const tombstone = fromItem(item);
        if (matches(tombstone)) yield tombstone;
      }
    }
    return;
  }

  let partitions: { pk: string; between?: [string, string] }[];
  if (query.runId !== undefined) {
    partitions = [...Array(TOMBSTONE_SHARDS).keys()].map((shard) => ({
      pk: runPartition(query.runId as string, shard),
    }));
  } else if (query.from !== undefined) {
    const from = query.from;
    const to = query.to ?? clock();
    if (to.getTime() < from.getTime()) throw new InputError('--to', 'a time after --from', to.toISOString());
    // Newest day first: within a day and shard the sort key already runs newest first, and restore
    // brings back the first tombstone it meets of each schedule.
    const days = daysBetween(from, to).reverse();
    if (days.length > 400) throw new InputError('--from', 'a range of at most 400 days', from.toISOString());
    // '~' sorts after every character of a group or schedule name.
    const between: [string, string] = [from.toISOString(), `${to.toISOString()}~`];
    partitions = days.flatMap((day) =>
      [...Array(TOMBSTONE_SHARDS).keys()].map((shard) => ({ pk: dayPartition(day, shard), between })),
    );
  } else {
    throw new InputError('query', 'one of --key, --group, --run or --from', JSON.stringify(query));
  }

  // Pointers first, then the tombstones they name, 100 per BatchGetItem, each named once. Pointer
  // items carry no proof of origin, so one is followed only from where the store puts a pointer to
  // the tombstone it names (pointerKeys, from the group, name and time its key holds, and the run its
  // own partition names): a pointer copied to a newer day or to the front of a run cannot make an
  // older tombstone of a schedule come first. Any other pointer, or one naming no key the store could
  // write (an oversized one would fail the whole read), is reported and dropped at once, so what is
  // held is at most 100 targets with one pointer each. Once read, the tombstone's own fields must
  // place that pointer too (they are signed; a tombstone whose fields were changed fails its proof).
  let refs = new Map<string, { key: Record<string, AttributeValue>; pointer: string }>();
  const resolve = async function* () {
    const named = refs;
    refs = new Map();
    const keys = [...named.values()].map((ref) => ref.key);
    for (const item of await batchGet(dynamodb, tableName, keys)) {
      if (!live(item) || item.kind?.S !== 'tombstone') continue;
      const tombstone = fromItem(item);
      if (!matches(tombstone)) continue;
      const pointer = named.get(tombstone.key)?.pointer;
      const own = pointerKeys(tombstone);
      if (pointer === joinKey(own.byRun) || pointer === joinKey(own.byDay)) yield tombstone;
      else if (pointer !== undefined) onMisplacedPointer?.(pointer);
    }
  };
  for (const partition of partitions) {
    for await (const pointer of queryPartition(dynamodb, tableName, partition.pk, {
      ...(partition.between ? { between: partition.between } : {}),
    })) {
      if (!live(pointer)) continue;
      const name = pointer.name?.S ?? '';
      if (query.namePrefix !== undefined && !name.startsWith(query.namePrefix)) continue;
      if (query.name !== undefined && name !== query.name) continue;
      const at = `${pointer.pk?.S ?? ''}|${pointer.sk?.S ?? ''}`;
      const target = `${pointer.tpk?.S ?? ''}|${pointer.tsk?.S ?? ''}`;
      if (!isOwnPointer(at, target, partition.pk)) {
        onMisplacedPointer?.(at);
        continue;
      }
      refs.set(target, {
        key: { pk: pointer.tpk as AttributeValue, sk: pointer.tsk as AttributeValue },
        pointer: at,
      });
      if (refs.size >= BATCH_GET_LIMIT) yield* resolve();
    }
  }
  if (refs.size > 0) yield* resolve();
}

/**
 * Whether `at` (a pointer's `pk|sk`, read from `partition`) is where the store puts a pointer to the
 * tombstone keyed `target`: its by-day place, or its by-run place for the run `partition` names.
 */
function isOwnPointer(at: string, target: string, partition: string): boolean {
  const place = parseTombstoneKey(target);
  if (!place) return false;
  const runId = partition.startsWith('r#') ? partition.slice(2, partition.lastIndexOf('#')) : '';
  const own = pointerKeys({ ...place, runId });
  return at === joinKey(own.byDay) || (runId !== '' && at === joinKey(own.byRun));
}

async function* queryPartition(
  dynamodb: DynamoDBClient,
  tableName: string,
  pk: string,
  range: { prefix?: string | undefined; between?: [string, string] },
): AsyncGenerator<Record<string, AttributeValue>> {
  let condition = 'pk = :pk';
  const values: Record<string, AttributeValue> = { ':pk': { S: pk } };
  if (range.prefix !== undefined && range.prefix !== '') {
    condition += ' AND begins_with(sk, :prefix)';
    values[':prefix'] = { S: range.prefix };
  } else if (range.between) {
    condition += ' AND sk BETWEEN :low AND :high';
    values[':low'] = { S: range.between[0] };
    values[':high'] = { S: range.between[1] };
  }
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
        // Newest first within one schedule's tombstones (sk = <name>#<time>).
        ScanIndexForward: false,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    yield* page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start);
}

async function batchGet(
  dynamodb: DynamoDBClient,
  tableName: string,
  keys: Record<string, AttributeValue>[],
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let pending = keys;
  for (let round = 0; pending.length > 0; round++) {
    if (round >= 8) throw new Error(`Tombstone table ${tableName} left ${pending.length} reads unprocessed`);
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
    const result = await dynamodb.send(
      new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
    );
    items.push(...(result.Responses?.[tableName] ?? []));
    pending = result.UnprocessedKeys?.[tableName]?.Keys ?? [];
  }
  // BatchGetItem answers in no particular order: newest first, as the other paths do.
  return items.sort((a, b) => (b.deletedAt?.S ?? '').localeCompare(a.deletedAt?.S ?? ''));
}

function daysBetween(from: Date, to: Date): string[] {
  const days: string[] = [];
  const cursor = new Date(`${from.toISOString().slice(0, 10)}T00:00:00.000Z`);
  while (cursor.getTime() <= to.getTime()) {
    days.push(cursor.toISOString().slice(0, 10));
    cursor.setUTCDate(cursor.getUTCDate() + 1);
  }
  return days;
}

/**
 * The most a compressed definition may inflate to: well above any definition (Scheduler's own request
 * limits keep one far below DynamoDB's 400 KB item, which the compressed form is for).
 */
const MAX_DEFINITION_BYTES = 4 * 2 ** 20;

/**
 * A compressed definition's text, or '' when it does not inflate (corrupt, or larger than
 * MAX_DEFINITION_BYTES): its SHA-256 then does not match, and restore says so on its line.
 */
function inflated(bytes: Uint8Array): string {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_DEFINITION_BYTES }).toString('utf8');
  } catch {
    return '';
  }
}

function fromItem(item: Record<string, AttributeValue>): Tombstone {
  const text = (name: string) => item[name]?.S ?? '';
  return {
    key: `${text('pk')}|${text('sk')}`,
    group: text('group'),
    name: text('name'),
    arn: text('arn'),
    deletedAt: text('deletedAt'),
    runId: text('runId'),
    finishedAt: text('finishedAt'),
    stuck: item.stuck?.BOOL === true,
    body: item.definitionGzip?.B ? inflated(item.definitionGzip.B) : text('definition'),
    sha256: text('sha256'),
    outcome: text('outcome'),
    ...(item.outcomeAt?.S ? { outcomeAt: item.outcomeAt.S } : {}),
    stored: item,
  };
}
