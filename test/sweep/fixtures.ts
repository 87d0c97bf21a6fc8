// Small factories for the sweep's integration tests: schedule definitions to seed into the emulator,
// sweep options with fast budgets, and readers for what the sweep left behind.
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import type { LogFields } from '../../src/log.ts';
import type { SweepOptions } from '../../src/sweep/sweep.ts';
import { ACCOUNT_ID, REGION } from '../support/emulator.ts';

const TARGET_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:schedule-hygiene-target`;
const ROLE_ARN = `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-execution`;

export interface OneTimeSpec {
  name: string;
  group?: string;
  /** Wall-clock time, yyyy-mm-ddThh:mm:ss, in `zone`. */
  at: string;
  zone?: string;
  flexibleMinutes?: number;
  /** Target.RetryPolicy.MaximumEventAgeInSeconds; left out means AWS's 24 h. */
  maximumEventAgeSeconds?: number;
  state?: 'ENABLED' | 'DISABLED';
  actionAfterCompletion?: 'NONE' | 'DELETE';
}

export function oneTime(spec: OneTimeSpec): SeedDefinition {
  return {
    Name: spec.name,
    GroupName: spec.group ?? 'default',
    ScheduleExpression: `at(${spec.at})`,
    ...(spec.zone === undefined ? {} : { ScheduleExpressionTimezone: spec.zone }),
    FlexibleTimeWindow:
      spec.flexibleMinutes === undefined
        ? { Mode: 'OFF' }
        : { Mode: 'FLEXIBLE', MaximumWindowInMinutes: spec.flexibleMinutes },
    State: spec.state ?? 'ENABLED',
    ActionAfterCompletion: spec.actionAfterCompletion ?? 'NONE',
    Description: `one-time ${spec.name}`,
    Target: {
      Arn: TARGET_ARN,
      RoleArn: ROLE_ARN,
      Input: JSON.stringify({ reminder: spec.name }),
      ...(spec.maximumEventAgeSeconds === undefined
        ? {}
        : {
            RetryPolicy: { MaximumEventAgeInSeconds: spec.maximumEventAgeSeconds, MaximumRetryAttempts: 3 },
          }),
    },
  };
}

export function recurring(name: string, expression: string, group = 'default'): SeedDefinition {
  return {
    Name: name,
    GroupName: group,
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: 'OFF' },
    State: 'ENABLED',
    Target: { Arn: TARGET_ARN, RoleArn: ROLE_ARN },
  };
}

/** Options for a sweep in tests: budgets high enough not to slow anything, backoff in milliseconds. */
export function sweepOptions(overrides: Partial<SweepOptions> = {}): SweepOptions {
  return {
    dryRun: false,
    groups: [],
    graceMinutes: 60,
    keepDisabled: false,
    budgets: { list: 1000, get: 1000, delete: 1000 },
    concurrency: 16,
    namespace: 'SweepTest',
    budgetTuning: { baseDelayMs: 2, maxDelayMs: 20 },
    ...overrides,
  };
}

export const key = (definition: SeedDefinition) => `${definition.GroupName ?? 'default'}/${definition.Name}`;

/** The log lines of deletions (and, in a dry run, of deletions that would be made). */
export function tombstones(lines: LogFields[]): LogFields[] {
  return lines.filter((line) => line.message === 'tombstone');
}
