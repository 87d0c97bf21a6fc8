// The create path's library entry points: validate, then CreateSchedule with ActionAfterCompletion
// DELETE. With an idempotency key a retry returns the schedule the first attempt made, never a second.
import {
  CreateScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
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
      `Schedule '${plan.name}' in group '${plan.groupName}' exists (same idempotencyKey) but could not be read back to confirm it is the same request: ${(error as Error).message}`,
      { cause: conflict },
    );
  }
  const differences = describeDifferences(plan, existing);
  if (differences.length > 0) {
    throw new CreateScheduleError(
      CreateFailure.idempotencyMismatch,
      `idempotencyKey was already used for a different schedule '${plan.name}' in group '${plan.groupName}' (${differences.join('; ')}): use a new idempotencyKey for a new schedule`,
      { cause: conflict },
    );
  }
  return result(plan, existing.Arn ?? '');
}

function describeDifferences(plan: SchedulePlan, existing: GetScheduleCommandOutput): string[] {
  const wanted = plan.request;
  const checks: [string, unknown, unknown][] = [
    ['target', wanted.Target?.Arn, existing.Target?.Arn],
    ['input', wanted.Target?.Input, existing.Target?.Input],
    ['expression', wanted.ScheduleExpression, existing.ScheduleExpression],
    ['timezone', wanted.ScheduleExpressionTimezone, existing.ScheduleExpressionTimezone ?? 'UTC'],
    ['action after completion', 'DELETE', existing.ActionAfterCompletion],
  ];
  return checks
    .filter(([, want, have]) => want !== have)
    .map(([label, want, have]) =>
      // A target's input may hold secrets, and this message reaches logs and callers: never its value.
      label === 'input'
        ? 'input: differs (values not shown)'
        : `${label}: existing ${String(have)}, requested ${String(want)}`,
    );
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
