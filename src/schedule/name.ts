// Schedule and schedule group names as the Scheduler API model constrains them: Name, GroupName and
// NamePrefix are 1-64 characters of `^[0-9a-zA-Z-_.]+$` (botocore scheduler/2021-06-30/service-2.json,
// the model @aws-sdk/client-scheduler is generated from). One pattern for every reader of a name:
// settings, payloads, tombstone keys, tallies and the emulator's options. src/create/constraints.ts
// keeps the model's members as a table of length and pattern apart, to name the member it checks.

/** A whole schedule or group name, or a name prefix: 1-64 of 0-9 a-z A-Z - _ . */
export const NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;

/** NAME_PATTERN in words, for errors that name a field and its expected form. */
export const NAME_FORM = '1-64 characters of 0-9 a-z A-Z - _ .';

/**
 * `.` and `..`: names the pattern allows that are dot segments in a request path
 * (`/schedules/{Name}`), which URL parsers and SigV4 remove. How AWS routes them is undocumented
 * (the project's choice: docs/guarantees.md, "How the sweeper decides").
 */
export function isDotSegment(name: string | undefined): boolean {
  return name === '.' || name === '..';
}

/** What identifies a schedule in a request or an answer (as the SDK's shapes spell it). */
export interface ScheduleIdentity {
  Name?: string | undefined;
  GroupName?: string | undefined;
  Arn?: string | undefined;
}

/** `arn:<partition>:<service>:<region>:<account>:`, the parts of an ARN a schedule's shares. */
const ARN_SCOPE = /^arn:(aws(?:-[a-z]+)*):[a-z0-9-]+:([a-z0-9-]+):(\d{12}):/;

/** Where a schedule lives: the partition, Region and account of its ARN. */
export interface ScheduleScope {
  partition: string;
  region: string;
  account: string;
}

/**
 * The ARN of schedule `group`/`name` in `scope`:
 * `arn:<partition>:scheduler:<region>:<account>:schedule/<group>/<name>` (Scheduler's resource type
 * `schedule`, Service Authorization Reference).
 */
export function scheduleArn(scope: ScheduleScope, group: string, name: string): string {
  return `arn:${scope.partition}:scheduler:${scope.region}:${scope.account}:schedule/${group}/${name}`;
}

/**
 * The ARN of schedule `group`/`name` in the partition, Region and account of `scopeArn` (any ARN of
 * that account and Region: a KMS key's, a function's, another schedule's). Undefined when `scopeArn`
 * names no Region and account.
 */
export function scheduleArnIn(scopeArn: string, group: string, name: string): string | undefined {
  const match = ARN_SCOPE.exec(scopeArn);
  if (!match) return undefined;
  const [, partition = '', region = '', account = ''] = match;
  return scheduleArn({ partition, region, account }, group, name);
}

/**
 * Whether a GetSchedule answer is of the schedule asked for: the ARN the asker expects (a listed
 * schedule's, a tombstone's, or one built with scheduleArnIn from its own account and Region), and
 * the same Name and group (`default` when the ask names none, as GetSchedule does). An ask without an
 * ARN or a name matches nothing. GetSchedule returns the named schedule with these three members
 * (Scheduler API reference, GetSchedule), so another answer comes from something between the caller
 * and Scheduler (a front routing elsewhere, a cache shared across accounts): nothing is deleted,
 * reported, adopted or counted restored on it.
 */
export function answersFor(asked: ScheduleIdentity, answer: ScheduleIdentity): boolean {
  if (!asked.Arn || !asked.Name) return false;
  return (
    answer.Arn === asked.Arn &&
    answer.Name === asked.Name &&
    answer.GroupName === (asked.GroupName ?? 'default')
  );
}
