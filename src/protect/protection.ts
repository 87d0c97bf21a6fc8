// What the sweeper must never delete, as operators mark it:
//  - a schedule group tagged `schedule-hygiene:protect` = `true` (read with ListTagsForResource, at
//    most once per group per PROTECTION_MAX_AGE_MS);
//  - name prefixes, from the configuration (SWEEP_PROTECT_PREFIXES) and the invoke payload;
//  - schedules restored with `npm run restore -- --keep`: one item per name in the state table (pk
//    `protect#<group>#<name>`), read at the delete gate; earlier versions kept a group's names in one
//    item (pk `protect#<group>`, a string set `names`), still read with the group's tag.
// Reads are at most PROTECTION_MAX_AGE_MS old when a delete leaves (src/sweep/gate.ts). A protected
// schedule is counted and never deleted; one protected by prefix or group is never looked up. When
// protection cannot be read, the schedule is kept and counted as skipped (protectionUnknown).
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import {
  ListTagsForResourceCommand,
  type SchedulerClient,
  type ScheduleSummary,
} from '@aws-sdk/client-scheduler';
import { type BudgetOptions, RequestBudget } from '../aws/budget.ts';
import { clip } from '../errors.ts';
import type { Logger } from '../log.ts';
import { safeError, scheduleRef } from '../redact.ts';

export const PROTECT_TAG_KEY = 'schedule-hygiene:protect';
export const PROTECT_TAG_VALUE = 'true';

/**
 * What a group's tags say of its protection. The tag `schedule-hygiene:protect` with the value
 * `true` (any case) protects, `false` (any case) does not, and no such tag does not. A tag that
 * looks meant for it but is not exactly it (the key in another case or with spaces, or a value such
 * as ` true`, `yes`, `1` or empty) is `unclear`: the operator meant something, and reading it as
 * "not protected" would delete what they may have meant to keep. A protecting tag wins over others.
 */
export function readProtectTag(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[],
): { kind: 'protected' | 'open' } | { kind: 'unclear'; key: string; value: string } {
  let unclear: { kind: 'unclear'; key: string; value: string } | undefined;
  for (const { Key: key = '', Value: value = '' } of tags) {
    if (key.trim().toLowerCase() !== PROTECT_TAG_KEY) continue;
    const lower = value.toLowerCase();
    if (key === PROTECT_TAG_KEY && lower === PROTECT_TAG_VALUE) return { kind: 'protected' };
    if (key === PROTECT_TAG_KEY && lower === 'false') continue;
    unclear ??= { kind: 'unclear', key, value };
  }
  return unclear ?? { kind: 'open' };
}

export const ProtectedBy = {
  groupTag: 'groupTag',
  namePrefix: 'namePrefix',
  restoredKeep: 'restoredKeep',
} as const;
export type ProtectedBy = (typeof ProtectedBy)[keyof typeof ProtectedBy];

export type ProtectionVerdict =
  | { kind: 'protected'; by: ProtectedBy }
  /** The group's tags or protected names could not be read: keep, count as skipped. */
  | { kind: 'unknown' }
  | undefined;

/** A verdict with the age of what it rests on. */
export interface ProtectionRead {
  verdict: ProtectionVerdict;
  /**
   * When the oldest read the verdict rests on was sent (the options' `now`, performance time by
   * default): what was written before this moment is in the verdict. Infinity when it rests on no
   * read (a name prefix, fixed for the invocation).
   */
  readAt: number;
  /**
   * When the answer of the read of the schedule's own protected-name item arrived (same clock):
   * the delete gate holds it to the re-read window, as it holds the definition, since restore --keep
   * may protect a schedule that exists. Infinity when there is nothing to read (a name prefix, no
   * state table).
   */
  nameAnsweredAt: number;
}

export interface ProtectionCheck {
  /**
   * Before a lookup: name prefixes, the group's tag and its protected-names list (the per-group item
   * of earlier versions), from reads at most PROTECTION_MAX_AGE_MS old. Never throws.
   */
  check(summary: ScheduleSummary): Promise<ProtectionVerdict>;
  /**
   * At the delete gate: every source, each read no older than PROTECTION_MAX_AGE_MS (the group's
   * tag and list are read again when older), and the schedule's own protected-name item read now.
   * Never throws: what cannot be read is `unknown`.
   */
  confirm(summary: ScheduleSummary): Promise<ProtectionRead>;
}

export interface ProtectionOptions {
  scheduler: SchedulerClient;
  /** Name prefixes never to delete (configuration and payload together). */
  prefixes: readonly string[];
  /** The state table holding names restored with --keep; without it only tags and prefixes count. */
  state?: { dynamodb: DynamoDBClient; tableName: string };
  log: Logger;
  /** Backoff tuning for the ListTagsForResource budget (tests pass milliseconds). */
  budgetTuning?: Omit<BudgetOptions, 'ratePerSecond'>;
  /** Monotonic milliseconds for the age of reads (default performance.now). */
  now?: () => number;
  /** Default PROTECTION_MAX_AGE_MS. */
  maxAgeMs?: number;
}

/**
 * The oldest a protection read may be when a delete leaves (group tag, restored names): older, and
 * the sweep reads it again before the delete departs. A protection that landed more than this
 * before a delete's departure is always honoured; `restore --keep` waits this long after writing its
 * protections before it creates the schedules, so the sweep can never judge a restored schedule
 * with a protection read older than the protection itself.
 */
export const PROTECTION_MAX_AGE_MS = 10_000;

/**
 * ListTagsForResource is called once per group per PROTECTION_MAX_AGE_MS at most, and only while
 * the group's schedules are judged or deleted: a small budget of its own suffices. Scheduler's
 * schedule-group operations allow 10 requests a second (reference: quotas).
 */
export const TAG_READS_PER_SECOND = 10;

interface GroupProtection {
  tagged: boolean;
  /** Names in the group's list item (`protect#<group>`, written by earlier versions). */
  names: Set<string>;
}

interface GroupRead {
  sentAt: number;
  loading: Promise<GroupProtection | undefined>;
}

/** The per-group item of earlier versions: a string set of names. Still read, never written. */
export const protectionKey = (group: string) => `protect#${group}`;
/** One protected name (restore --keep): its own item, so a group holds any number of them. */
export const protectedNameKey = (group: string, name: string) => `protect#${group}#${name}`;

/** The schedule group's ARN, from one of its schedules' ARNs (…:schedule/<group>/<name>). */
export function groupArnOf(scheduleArn: string, group: string): string | undefined {
  const at = scheduleArn.indexOf(':schedule/');
  if (at < 0) return undefined;
  return `${scheduleArn.slice(0, at)}:schedule-group/${group}`;
}

export function createProtection(options: ProtectionOptions): ProtectionCheck {
  const now = options.now ?? (() => performance.now());
  const maxAgeMs = options.maxAgeMs ?? PROTECTION_MAX_AGE_MS;
  const groups = new Map<string, GroupRead>();
  // Its own budget: paced, and retried on throttling and 5xx, so one throttled read does not leave a
  // group unswept.
  const budget = new RequestBudget('ListTagsForResource', {
    ...options.budgetTuning,
    ratePerSecond: TAG_READS_PER_SECOND,
  });
  const readName = options.state ? createProtectedNameReader(options.state, options.log, now) : undefined;
  const loadGroup = (group: string, scheduleArn: string) =>
    readGroup({ ...options, budget }, group, scheduleArn);

  /** The group's protection from a read no older than maxAgeMs; a new read when older. */
  const groupProtection = async (summary: ScheduleSummary) => {
    const group = summary.GroupName ?? 'default';
    let read = groups.get(group);
    if (!read || now() - read.sentAt > maxAgeMs) {
      read = { sentAt: now(), loading: loadGroup(group, summary.Arn ?? '') };
      groups.set(group, read);
    }
    return { protection: await read.loading, sentAt: read.sentAt };
  };

  const byPrefix = (summary: ScheduleSummary): ProtectionVerdict => {
    const name = summary.Name ?? '';
    return options.prefixes.some((prefix) => name.startsWith(prefix))
      ? { kind: 'protected', by: ProtectedBy.namePrefix }
      : undefined;
  };

  const fromGroup = (
    summary: ScheduleSummary,
    protection: GroupProtection | undefined,
  ): ProtectionVerdict => {
    if (!protection) return { kind: 'unknown' };
    if (protection.tagged) return { kind: 'protected', by: ProtectedBy.groupTag };
    if (protection.names.has(summary.Name ?? '')) return { kind: 'protected', by: ProtectedBy.restoredKeep };
    return undefined;
  };

  return {
    async check(summary) {
      const prefix = byPrefix(summary);
      if (prefix) return prefix;
      const { protection } = await groupProtection(summary);
      return fromGroup(summary, protection);
    },
    async confirm(summary) {
      const prefix = byPrefix(summary);
      if (prefix)
        return {
          verdict: prefix,
          readAt: Number.POSITIVE_INFINITY,
          nameAnsweredAt: Number.POSITIVE_INFINITY,
        };
      const [group, named] = await Promise.all([
        groupProtection(summary),
        readName
          ? readName(summary)
          : { found: false, sentAt: Number.POSITIVE_INFINITY, answeredAt: Number.POSITIVE_INFINITY },
      ]);
      const readAt = Math.min(group.sentAt, named.sentAt);
      const nameAnsweredAt = named.answeredAt;
      const verdict = fromGroup(summary, group.protection);
      if (verdict) return { verdict, readAt, nameAnsweredAt };
      if (named.found === 'unknown') return { verdict: { kind: 'unknown' }, readAt, nameAnsweredAt };
      return {
        verdict: named.found ? { kind: 'protected', by: ProtectedBy.restoredKeep } : undefined,
        readAt,
        nameAnsweredAt,
      };
    },
  };
}

/** A group's tag and its list item; undefined when either cannot be read (logged). */
async function readGroup(
  options: ProtectionOptions & { budget: RequestBudget },
  group: string,
  scheduleArn: string,
): Promise<GroupProtection | undefined> {
  const { budget } = options;
  try {
    const arn = groupArnOf(scheduleArn, group);
    if (!arn) throw new Error(`cannot derive the group ARN from '${scheduleArn}'`);
    const tags = await budget.call(() =>
      options.scheduler.send(new ListTagsForResourceCommand({ ResourceArn: arn })),
    );
    const tag = readProtectTag(tags.Tags ?? []);
    if (tag.kind === 'unclear') {
      options.log.error("the group's protection tag is not understood; the group is kept this sweep", {
        group,
        tagKey: clip(tag.key),
        tagValue: clip(tag.value),
        expected: `${PROTECT_TAG_KEY} = true or false`,
      });
      return undefined;
    }
    const names = new Set<string>();
    if (options.state) {
      const { dynamodb, tableName } = options.state;
      const item = await dynamodb.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { pk: { S: protectionKey(group) } },
          ConsistentRead: true,
        }),
      );
      for (const name of item.Item?.names?.SS ?? []) names.add(name);
    }
    return { tagged: tag.kind === 'protected', names };
  } catch (error) {
    options.log.error('reading schedule protection failed; the group is kept this sweep', {
      group,
      error: safeError(error),
    });
    return undefined;
  }
}

/** Most keys in one BatchGetItem (DynamoDB's limit). */
const BATCH_GET_LIMIT = 100;
/**
 * How long a protected-name read waits for company before its BatchGetItem is sent: as long as a
 * tombstone write waits (src/tombstone/store.ts), beside which the gate asks it, so it is usually
 * answered before the tombstone is (a tombstone call that fills at once leaves up to 5 ms sooner).
 * The read's age is measured from its answer, so the linger takes nothing from its 100 ms.
 */
const NAME_READ_LINGER_MS = 5;

type NameAnswer = { found: boolean | 'unknown'; sentAt: number; answeredAt: number };

/**
 * Reads whether `restore --keep` protected schedules' names: their own items, read consistently.
 * Reads asked for within NAME_READ_LINGER_MS of each other share one BatchGetItem (up to 100 keys),
 * so a delete costs a fraction of a request; keys DynamoDB leaves unprocessed are asked again.
 * Answers 'unknown' when the read fails (logged), never throws.
 */
function createProtectedNameReader(
  state: NonNullable<ProtectionOptions['state']>,
  log: Logger,
  now: () => number,
): (summary: ScheduleSummary) => Promise<NameAnswer> {
  const queue: { key: string; summary: ScheduleSummary; resolve: (answer: NameAnswer) => void }[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const send = async (batch: typeof queue) => {
    const sentAt = now();
    const found = new Set<string>();
    try {
      let keys = [...new Set(batch.map((entry) => entry.key))].map((key) => ({ pk: { S: key } }));
      for (let round = 0; keys.length > 0; round += 1) {
        if (round >= UNPROCESSED_ROUNDS)
          throw new Error(`DynamoDB left ${keys.length} protection reads unprocessed`);
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
        const answer = await state.dynamodb.send(
          new BatchGetItemCommand({
            RequestItems: {
              [state.tableName]: { Keys: keys, ConsistentRead: true, ProjectionExpression: 'pk' },
            },
          }),
        );
        for (const item of answer.Responses?.[state.tableName] ?? []) if (item.pk?.S) found.add(item.pk.S);
        keys = (answer.UnprocessedKeys?.[state.tableName]?.Keys ?? []) as typeof keys;
      }
      const answeredAt = now();
      for (const entry of batch) entry.resolve({ found: found.has(entry.key), sentAt, answeredAt });
    } catch (error) {
      for (const entry of batch) {
        log.error("reading a schedule's protection failed; it is kept", {
          ...scheduleRef(entry.summary),
          error: safeError(error),
        });
        entry.resolve({ found: 'unknown', sentAt, answeredAt: now() });
      }
    }
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    while (queue.length > 0) void send(queue.splice(0, BATCH_GET_LIMIT));
  };
  return (summary) =>
    new Promise<NameAnswer>((resolve) => {
      queue.push({
        key: protectedNameKey(summary.GroupName ?? 'default', summary.Name ?? ''),
        summary,
        resolve,
      });
      if (queue.length >= BATCH_GET_LIMIT) flush();
      else timer ??= setTimeout(flush, NAME_READ_LINGER_MS);
    });
}

/** Most items in one BatchWriteItem (DynamoDB's limit). */
const BATCH_WRITE_LIMIT = 25;
/** Rounds of UnprocessedItems retried before a protection write fails. */
const UNPROCESSED_ROUNDS = 8;

/**
 * Protects names in a group (restore --keep): one item per name, `protect#<group>#<name>`, so a
 * group holds any number of them (an item is at most 400 KB; a list in one item would cap a group
 * at some 13,000 names). Throws if any write fails after DynamoDB's unprocessed items were retried.
 */
export async function protectNames(
  dynamodb: DynamoDBClient,
  tableName: string,
  group: string,
  names: string[],
): Promise<void> {
  const written = new Date().toISOString();
  await batchWrite(
    dynamodb,
    tableName,
    names.map((name) => ({
      PutRequest: {
        Item: { pk: { S: protectedNameKey(group, name) }, protectedAt: { S: written } },
      },
    })),
  );
}

/**
 * Removes names' protection, so the sweep judges them again: their own items, and the names in the
 * group's list item of earlier versions. Throws if a write fails.
 */
export async function unprotectNames(
  dynamodb: DynamoDBClient,
  tableName: string,
  group: string,
  names: string[],
): Promise<void> {
  if (names.length === 0) return;
  await batchWrite(
    dynamodb,
    tableName,
    names.map((name) => ({ DeleteRequest: { Key: { pk: { S: protectedNameKey(group, name) } } } })),
  );
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { pk: { S: protectionKey(group) } },
      UpdateExpression: 'DELETE #names :names',
      // NAMES is a DynamoDB reserved word.
      ExpressionAttributeNames: { '#names': 'names' },
      ExpressionAttributeValues: { ':names': { SS: names } as AttributeValue },
    }),
  );
}

async function batchWrite(dynamodb: DynamoDBClient, tableName: string, requests: WriteRequest[]) {
  for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
    let pending = requests.slice(start, start + BATCH_WRITE_LIMIT);
    for (let round = 0; pending.length > 0; round += 1) {
      if (round >= UNPROCESSED_ROUNDS) {
        throw new Error(`DynamoDB left ${pending.length} protection writes unprocessed in ${tableName}`);
      }
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      const answer = await dynamodb.send(
        new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
      );
      pending = answer.UnprocessedItems?.[tableName] ?? [];
    }
  }
}
