// The create path's library entry points: validate, then CreateSchedule with ActionAfterCompletion
// DELETE. With an idempotency key a retry returns the schedule the first attempt made, never a second.
import {
  CreateScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { safeError } from '../redact.ts';
import { answersFor, scheduleArn } from '../schedule/name.ts';
import { CreateFailure, CreateScheduleError, mapCreateError } from './errors.ts';
import {
  type CreateInput,
  planOneTimeSchedule,
  planRecurringSchedule,
  type RecurringInput,
  type ScheduleDefaults,
  type SchedulePlan,
} from './plan.ts';

export interface CreateDeps {
  scheduler: SchedulerClient;
  clock: () => Date;
}

export interface CreatedSchedule {
  name: string;
  arn: string;
  groupName: string;
  scheduleExpression: string;
  timezone: string;
  /** ISO instant the one-time schedule fires (before any flexible window). */
  runsAt?: string;
  /** ISO instant a recurring schedule stops (and is then deleted). */
  endDate?: string;
}

/** Creates a one-time at() schedule that deletes itself after it runs. Throws InputError before any request. */
export async function createOneTimeSchedule(
  deps: CreateDeps,
  input: CreateInput,
  defaults: ScheduleDefaults,
): Promise<CreatedSchedule> {
  return submit(deps.scheduler, planOneTimeSchedule(input, defaults, deps.clock()));
}

/** Creates a rate()/cron() schedule; an endDate is required so that DELETE takes effect once it ends. */
export async function createRecurringSchedule(
  deps: CreateDeps,
  input: RecurringInput,
  defaults: ScheduleDefaults,
): Promise<CreatedSchedule> {
  return submit(deps.scheduler, planRecurringSchedule(input, defaults, deps.clock()));
}

async function submit(scheduler: SchedulerClient, plan: SchedulePlan): Promise<CreatedSchedule> {
  const context = { name: plan.name, groupName: plan.groupName, roleArn: plan.request.Target?.RoleArn ?? '' };
  try {
    const output = await scheduler.send(new CreateScheduleCommand(plan.request));
    return result(plan, output.ScheduleArn ?? '');
  } catch (error) {
    const isConflict = (error as { name?: string })?.name === 'ConflictException';
    if (!isConflict || plan.clientToken === undefined) throw mapCreateError(error, context);
    return adoptExisting(scheduler, plan, error);
  }
}

/**
 * A conflict under an idempotency key means an earlier attempt got through (its answer may have been
 * lost). Return that schedule if it is the same request; a different one under the same key is an error.
 */
async function adoptExisting(
  scheduler: SchedulerClient,
  plan: SchedulePlan,
  conflict: unknown,
): Promise<CreatedSchedule> {
  let existing: GetScheduleCommandOutput;
  try {
    existing = await scheduler.send(new GetScheduleCommand({ Name: plan.name, GroupName: plan.groupName }));
  } catch (error) {
    throw new CreateScheduleError(
      CreateFailure.nameTaken,
      `Schedule '${plan.name}' in group '${plan.groupName}' exists (same idempotencyKey) but could not be read back to confirm it is the same request: ${safeError(error).message}`,
      { cause: conflict },
    );
  }
  // The schedule expected: in this client's Region and the execution role's account (the create
  // path's role is its own stack's, derived from the function's ARN: src/handlers/create.ts). A role
  // of another account only makes adoption refuse, never adopt another's schedule.
  const region = await scheduler.config.region();
  const role = ROLE_ARN.exec(plan.request.Target?.RoleArn ?? '');
  const expected = role
    ? scheduleArn({ partition: role[1] ?? '', region, account: role[2] ?? '' }, plan.groupName, plan.name)
    : undefined;
  if (!answersFor({ Name: plan.name, GroupName: plan.groupName, Arn: expected }, existing)) {
    throw new CreateScheduleError(
      CreateFailure.nameTaken,
      `Schedule '${plan.name}' in group '${plan.groupName}' exists (same idempotencyKey) but reading it back answered another schedule: not adopted`,
      { cause: conflict },
    );
  }
  const differences = describeDifferences(plan, existing);
  if (differences.length > 0) {
    throw new CreateScheduleError(
      CreateFailure.idempotencyMismatch,
      `idempotencyKey was already used for a different schedule '${plan.name}' in group '${plan.groupName}' (differing: ${differences.join(', ')}; values not shown): use a new idempotencyKey for a new schedule`,
      { cause: conflict },
    );
  }
  return result(plan, existing.Arn ?? '');
}

/** An IAM role's ARN: its partition and account. */
const ROLE_ARN = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role\//;

/** What GetSchedule reports for a RetryPolicy member the creator left out (AWS CreateSchedule API reference). */
const DEFAULT_RETRY_POLICY = { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 };
/** The Target members the create path may set; any other one on the existing schedule is a difference. */
const PLANNED_TARGET_MEMBERS = new Set(['Arn', 'RoleArn', 'Input', 'RetryPolicy', 'DeadLetterConfig']);

/**
 * The names (AWS member names, e.g. `Target.RetryPolicy`) of every member the create path sets, or that it
 * leaves unset (`KmsKeyArn`, other Target parameters), on which the existing schedule differs from the
 * request. Names only: values may hold secrets (Target.Input) and this reaches logs and callers.
 */
function describeDifferences(plan: SchedulePlan, existing: GetScheduleCommandOutput): string[] {
  const wanted = plan.request;
  const wantedRetry = { ...DEFAULT_RETRY_POLICY, ...wanted.Target?.RetryPolicy };
  const haveRetry = { ...DEFAULT_RETRY_POLICY, ...existing.Target?.RetryPolicy };
  const checks: [string, unknown, unknown][] = [
    ['Target.Arn', wanted.Target?.Arn, existing.Target?.Arn],
    ['Target.RoleArn', wanted.Target?.RoleArn, existing.Target?.RoleArn],
    ['Target.Input', wanted.Target?.Input, existing.Target?.Input],
    ['Target.RetryPolicy', canonical(wantedRetry), canonical(haveRetry)],
    ['Target.DeadLetterConfig', wanted.Target?.DeadLetterConfig?.Arn, existing.Target?.DeadLetterConfig?.Arn],
    ['ScheduleExpression', wanted.ScheduleExpression, existing.ScheduleExpression],
    [
      'ScheduleExpressionTimezone',
      wanted.ScheduleExpressionTimezone ?? 'UTC',
      existing.ScheduleExpressionTimezone ?? 'UTC',
    ],
    [
      'FlexibleTimeWindow',
      canonical(wanted.FlexibleTimeWindow ?? {}),
      canonical(existing.FlexibleTimeWindow ?? {}),
    ],
    ['ActionAfterCompletion', wanted.ActionAfterCompletion, existing.ActionAfterCompletion],
    ['State', wanted.State ?? 'ENABLED', existing.State ?? 'ENABLED'],
    ['Description', wanted.Description ?? '', existing.Description ?? ''],
    ['StartDate', seconds(wanted.StartDate), seconds(existing.StartDate)],
    ['EndDate', seconds(wanted.EndDate), seconds(existing.EndDate)],
    ['KmsKeyArn', wanted.KmsKeyArn, existing.KmsKeyArn],
  ];
  const differing = checks.filter(([, want, have]) => want !== have).map(([name]) => name);
  for (const [key, value] of Object.entries(existing.Target ?? {})) {
    if (!PLANNED_TARGET_MEMBERS.has(key) && value !== undefined && value !== null)
      differing.push(`Target.${key}`);
  }
  return differing;
}

/** A JSON form with sorted keys and no undefined members, so that equal structures compare equal. */
function canonical(value: object): string {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && v !== null);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

/** Whole seconds since the epoch (AWS keeps schedule dates to the second), or undefined. */
function seconds(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : Math.floor(new Date(date).getTime() / 1000);
}

function result(plan: SchedulePlan, arn: string): CreatedSchedule {
  return {
    name: plan.name,
    arn,
    groupName: plan.groupName,
    scheduleExpression: plan.scheduleExpression,
    timezone: plan.timezone,
    ...(plan.runsAt ? { runsAt: plan.runsAt.toISOString() } : {}),
    ...(plan.endDate ? { endDate: plan.endDate.toISOString() } : {}),
  };
}
