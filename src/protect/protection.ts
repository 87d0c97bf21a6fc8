// What the sweeper must never delete, as operators mark it:
//  - a schedule group tagged `schedule-hygiene:protect` = `true` (read with ListTagsForResource once
//    per group per sweep);
//  - name prefixes, from the configuration (SWEEP_PROTECT_PREFIXES) and the invoke payload;
//  - schedules restored with `npm run restore -- --keep`: their names are kept in one item per group
//    in the state table (pk `protect#<group>`, a string set `names`), read once per group per sweep.
// A protected schedule is counted, never looked up and never deleted. When a group's protection
// cannot be read, its schedules are kept and counted as skipped (protectionUnknown), never swept.
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  ListTagsForResourceCommand,
  type SchedulerClient,
  type ScheduleSummary,
} from '@aws-sdk/client-scheduler';
import { type BudgetOptions, RequestBudget } from '../aws/budget.ts';
import { clip } from '../errors.ts';
import type { Logger } from '../log.ts';
import { safeError } from '../redact.ts';

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

export interface ProtectionCheck {
  /** Never throws. Answers from memory after the first schedule of each group. */
  check(summary: ScheduleSummary): Promise<ProtectionVerdict>;
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
}

/**
 * The oldest a protection read may be when a delete leaves (group tag, restored names): older, and
 * the sweep reads it again before the delete departs. A protection that landed more than this
 * before a delete's departure is always honoured; `restore --keep` waits this long after writing its
 * protections before it creates the schedules, so the sweep can never judge a restored schedule
 * with a protection read older than the protection itself.
 */
export const PROTECTION_MAX_AGE_MS = 10_000;

/** ListTagsForResource is called once per group per sweep: a small budget of its own suffices. */
export const TAG_READS_PER_SECOND = 10;

interface GroupProtection {
  tagged: boolean;
  names: Set<string>;
}

export const protectionKey = (group: string) => `protect#${group}`;

/** The schedule group's ARN, from one of its schedules' ARNs (…:schedule/<group>/<name>). */
export function groupArnOf(scheduleArn: string, group: string): string | undefined {
  const at = scheduleArn.indexOf(':schedule/');
  if (at < 0) return undefined;
  return `${scheduleArn.slice(0, at)}:schedule-group/${group}`;
}

export function createProtection(options: ProtectionOptions): ProtectionCheck {
  const groups = new Map<string, Promise<GroupProtection | undefined>>();
  // Its own budget: paced, and retried on throttling and 5xx, so one throttled read does not leave a
  // group unswept for a whole sweep.
  const budget = new RequestBudget('ListTagsForResource', {
    ...options.budgetTuning,
    ratePerSecond: TAG_READS_PER_SECOND,
  });

  const load = async (group: string, scheduleArn: string): Promise<GroupProtection | undefined> => {
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
      const tagged = tag.kind === 'protected';
      const names = new Set<string>();
      if (options.state) {
        const { dynamodb, tableName } = options.state;
        const item = await budget.call(() =>
          dynamodb.send(
            new GetItemCommand({
              TableName: tableName,
              Key: { pk: { S: protectionKey(group) } },
              ConsistentRead: true,
            }),
          ),
        );
        for (const name of item.Item?.names?.SS ?? []) names.add(name);
      }
      return { tagged, names };
    } catch (error) {
      options.log.error('reading schedule protection failed; the group is kept this sweep', {
        group,
        error: safeError(error),
      });
      return undefined;
    }
  };

  return {
    async check(summary) {
      const name = summary.Name ?? '';
      if (options.prefixes.some((prefix) => name.startsWith(prefix))) {
        return { kind: 'protected', by: ProtectedBy.namePrefix };
      }
      const group = summary.GroupName ?? 'default';
      let loading = groups.get(group);
      if (!loading) {
        loading = load(group, summary.Arn ?? '');
        groups.set(group, loading);
      }
      const protection = await loading;
      if (!protection) return { kind: 'unknown' };
      if (protection.tagged) return { kind: 'protected', by: ProtectedBy.groupTag };
      if (protection.names.has(name)) return { kind: 'protected', by: ProtectedBy.restoredKeep };
      return undefined;
    },
  };
}

/** Adds names to a group's protected list (restore --keep). Throws if the write fails. */
export const protectNames = (dynamodb: DynamoDBClient, tableName: string, group: string, names: string[]) =>
  changeProtectedNames(dynamodb, tableName, group, names, 'ADD');

/** Removes names from a group's protected list, so the sweep judges them again. Throws if the write fails. */
export const unprotectNames = (dynamodb: DynamoDBClient, tableName: string, group: string, names: string[]) =>
  changeProtectedNames(dynamodb, tableName, group, names, 'DELETE');

async function changeProtectedNames(
  dynamodb: DynamoDBClient,
  tableName: string,
  group: string,
  names: string[],
  action: 'ADD' | 'DELETE',
): Promise<void> {
  if (names.length === 0) return;
  await dynamodb.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { pk: { S: protectionKey(group) } },
      UpdateExpression: `${action} #names :names`,
      // NAMES is a DynamoDB reserved word.
      ExpressionAttributeNames: { '#names': 'names' },
      ExpressionAttributeValues: { ':names': { SS: names } as AttributeValue },
    }),
  );
}
