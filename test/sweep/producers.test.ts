// Who the sweep cleans up after, and what it leaves to CloudFormation, through the real handler, the
// real SDK clients and the emulator: a dry run names the producers of the finished schedules it
// finds with exact counts (answer and log line), the stuck ones apart; a finished schedule a
// CloudFormation stack declares is kept and named with its stack unless SWEEP_CLOUDFORMATION_OWNED
// is `sweep`; ownership that cannot be read keeps the schedule; and the tallies carried across
// hand-offs equal an uninterrupted sweep's.
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { createCloudFormationClient } from '../../src/aws/clients.ts';
import type { SweepResponse } from '../../src/handlers/sweep.ts';
import { SCHEDULE_RESOURCE_TYPE } from '../../src/ownership/cloudformation.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';
import { oneTime, recurring } from './fixtures.ts';
import {
  calls,
  createStatefulHandler,
  driveChain,
  metricValues,
  resetServices,
  SCHEDULED_EVENT,
  seed,
} from './resume-support.ts';

const now = new Date('2026-06-15T12:00:00Z');
const DAY = 86_400_000;

const env = useTestEmulator();

beforeEach(async () => {
  await resetServices(env, now);
  env.emulator.plane.controls.throttleRates = {};
});

const lambdaArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:${name}`;
const ORDERS = lambdaArn('orders-reminders');
const BILLING = lambdaArn('billing-close');
const NOTIFY = lambdaArn('notify');

const wall = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString().slice(0, 19);

function aimedAt(definition: SeedDefinition, arn: string): SeedDefinition {
  return { ...definition, Target: { ...definition.Target!, Arn: arn } };
}

const finished = (name: string, group: string, arn: string) =>
  aimedAt(oneTime({ name, group, at: wall(-5 * DAY) }), arn);

/**
 * Asked for ActionAfterCompletion DELETE and left behind: an at() in New York's spring-forward gap
 * never fires, so Scheduler never removes it (nor does the emulator), and decide() finds it
 * finished and stuck.
 */
const stuck = (name: string, arn: string) =>
  aimedAt(
    oneTime({
      name,
      at: '2026-03-08T02:30:00',
      zone: 'America/New_York',
      actionAfterCompletion: 'DELETE',
    }),
    arn,
  );

/** 5 finished for orders, 3 for billing, 2 stuck for notify; pending and recurring ones not counted. */
function account(): SeedDefinition[] {
  return [
    ...Array.from({ length: 5 }, (_, index) => finished(`order-${index}`, 'orders', ORDERS)),
    ...Array.from({ length: 3 }, (_, index) => finished(`invoice-${index}`, 'billing', BILLING)),
    stuck('retry-0', NOTIFY),
    stuck('retry-1', NOTIFY),
    aimedAt(oneTime({ name: 'order-later', group: 'orders', at: wall(30 * DAY) }), ORDERS),
    aimedAt(recurring('billing-daily', 'rate(1 day)', 'billing'), BILLING),
  ];
}

/** Seeds, then moves the clock on a minute: the ownership index is read after every schedule was created. */
function seedBefore(definitions: SeedDefinition[]): void {
  seed(env, definitions);
  env.emulator.plane.setNow(new Date(now.getTime() + 60_000));
}

function handlerFor(settings: Record<string, string> = {}) {
  return createStatefulHandler(env, settings, {
    cloudformation: createCloudFormationClient({ ...env.clientOptions, maxAttempts: 1 }),
  });
}

type RunSummary = Extract<SweepResponse, { scanned: number }>;

function summaryOf(result: SweepResponse | undefined): RunSummary {
  if (!result || !('scanned' in result)) throw new Error(`expected a summary, got ${JSON.stringify(result)}`);
  return result;
}

const exact = (targetArn: string, count: number) => ({ targetArn, count, uncertainty: 0 });

function declareStack(name: string, scheduleNames: string[]): void {
  env.emulator.services.cloudformation.seedStack({
    name,
    resources: [
      { logicalId: 'Handler', type: 'AWS::Lambda::Function', physicalId: `${name}-handler` },
      ...scheduleNames.map((scheduleName, index) => ({
        logicalId: `Reminder${index}`,
        type: SCHEDULE_RESOURCE_TYPE,
        physicalId: scheduleName,
      })),
    ],
  });
}

const present = (group: string, name: string) => env.emulator.services.scheduler.has(group, name);

describe('producers in the sweep', () => {
  it('a dry run names the producers of the finished schedules it would delete, with exact counts', async () => {
    // Prepare
    seedBefore(account());
    const { handler, log } = handlerFor();
    // Act
    const summary = summaryOf(await handler({ dryRun: true }));
    // Assess
    expect(summary).toMatchObject({ dryRun: true, complete: true, wouldDelete: 10, stuck: 2, deleted: 0 });
    expect(summary.producers).toEqual({
      finished: {
        total: 10,
        targets: [exact(ORDERS, 5), exact(BILLING, 3), exact(NOTIFY, 2)],
        otherTargets: 0,
        groups: [
          { group: 'orders', count: 5, uncertainty: 0 },
          { group: 'billing', count: 3, uncertainty: 0 },
          { group: 'default', count: 2, uncertainty: 0 },
        ],
        pairs: [
          { group: 'orders', ...exact(ORDERS, 5) },
          { group: 'billing', ...exact(BILLING, 3) },
          { group: 'default', ...exact(NOTIFY, 2) },
        ],
      },
      // Left behind despite DELETE: a failing target or a Scheduler fault, not the producer's setting.
      stuck: { total: 2, targets: [exact(NOTIFY, 2)], otherTargets: 0 },
    });
    expect(summary.cloudFormationOwned).toEqual({ total: 0, stacks: [], otherStacks: 0 });
    // The raw tallies stay inside the run.
    expect(summary).not.toHaveProperty('tallies');
    const finishedLine = log.lines.find((line) => line.message === 'sweep finished');
    expect((finishedLine?.summary as RunSummary | undefined)?.producers).toEqual(summary.producers);
    // Nothing deleted, nothing published.
    expect(calls(env, 'DeleteSchedule')).toBe(0);
    expect(present('orders', 'order-0')).toBe(true);
  });

  it('keeps a finished schedule a CloudFormation stack declares, counted and named with its stack', async () => {
    // Prepare
    declareStack('reminders-stack', ['welcome-1', 'welcome-2']);
    seedBefore([
      finished('welcome-1', 'default', ORDERS),
      finished('welcome-2', 'default', ORDERS),
      finished('made-by-code', 'default', ORDERS),
    ]);
    const { handler, log } = handlerFor();
    // Act
    const summary = summaryOf(await handler(SCHEDULED_EVENT));
    // Assess
    expect(summary).toMatchObject({ deleted: 1, finished: 1, complete: true });
    expect(summary.skipped.cloudFormationOwned).toBe(2);
    expect(summary.cloudFormationOwned).toEqual({
      total: 2,
      stacks: [{ stack: 'reminders-stack', count: 2, uncertainty: 0 }],
      otherStacks: 0,
    });
    // Found finished, whatever came of them: the producer view counts the kept ones too.
    expect(summary.producers.finished.total).toBe(3);
    expect(present('default', 'welcome-1')).toBe(true);
    expect(present('default', 'welcome-2')).toBe(true);
    expect(present('default', 'made-by-code')).toBe(false);
    expect(calls(env, 'DeleteSchedule')).toBe(1);
    expect(metricValues(env, 'CloudFormationOwnedSchedules')).toEqual([2]);
    expect(metricValues(env, 'OwnershipUnknown')).toEqual([0]);
    const kept = log.lines.filter(
      (line) => line.message === 'schedule kept: a CloudFormation stack declares it',
    );
    expect(kept.map((line) => [line.name, line.stack]).sort()).toEqual([
      ['welcome-1', 'reminders-stack'],
      ['welcome-2', 'reminders-stack'],
    ]);
  });

  it('never remembers a CloudFormation-owned schedule: the next sweep judges it afresh', async () => {
    declareStack('reminders-stack', ['welcome-1']);
    seedBefore([finished('welcome-1', 'default', ORDERS)]);
    const { handler } = handlerFor();
    await handler(SCHEDULED_EVENT);
    const lookups = calls(env, 'GetSchedule');
    const second = summaryOf(await handler(SCHEDULED_EVENT));
    expect(second.recalled).toBe(0);
    expect(calls(env, 'GetSchedule')).toBe(lookups + 1);
    expect(second.skipped.cloudFormationOwned).toBe(1);
    // The ownership index was read from CloudFormation once, then from the state table's cache.
    expect(calls(env, 'ListStacks')).toBe(1);
  });

  it('SWEEP_CLOUDFORMATION_OWNED=sweep deletes it like any other, without asking CloudFormation', async () => {
    declareStack('reminders-stack', ['welcome-1', 'welcome-2']);
    seedBefore([finished('welcome-1', 'default', ORDERS), finished('welcome-2', 'default', ORDERS)]);
    const { handler } = handlerFor({ SWEEP_CLOUDFORMATION_OWNED: 'sweep' });
    const summary = summaryOf(await handler(SCHEDULED_EVENT));
    expect(summary).toMatchObject({ deleted: 2, finished: 2 });
    expect(summary.skipped.cloudFormationOwned).toBe(0);
    expect(present('default', 'welcome-1')).toBe(false);
    expect(calls(env, 'ListStacks')).toBe(0);
  });

  it('a run may override the setting either way: {"cloudFormationOwned":"sweep"} deletes, "keep" keeps', async () => {
    declareStack('reminders-stack', ['welcome-1', 'welcome-2']);
    seedBefore([finished('welcome-1', 'default', ORDERS), finished('welcome-2', 'default', ORDERS)]);
    const kept = summaryOf(
      await handlerFor({ SWEEP_CLOUDFORMATION_OWNED: 'sweep' }).handler({
        cloudFormationOwned: 'keep',
        groups: ['default'],
      }),
    );
    expect(kept.skipped.cloudFormationOwned).toBe(2);
    expect(present('default', 'welcome-1')).toBe(true);
    const swept = summaryOf(await handlerFor().handler({ cloudFormationOwned: 'sweep' }));
    expect(swept).toMatchObject({ deleted: 2 });
    expect(present('default', 'welcome-1')).toBe(false);
    expect(present('default', 'welcome-2')).toBe(false);
  });

  it.each([
    ['ListStacks denied', () => env.emulator.services.cloudformation.denyOperations(['ListStacks'])],
    [
      'ListStacks throttled past its retries',
      () => {
        env.emulator.plane.controls.throttleRates = { ListStacks: 1 };
      },
    ],
  ])(
    'keeps every finished schedule as ownershipUnknown when ownership cannot be read (%s)',
    async (_, fault) => {
      declareStack('reminders-stack', ['welcome-1']);
      seedBefore([finished('welcome-1', 'default', ORDERS), finished('made-by-code', 'default', ORDERS)]);
      fault();
      const { handler, log } = handlerFor();
      const summary = summaryOf(await handler(SCHEDULED_EVENT));
      expect(summary).toMatchObject({ deleted: 0, finished: 0 });
      expect(summary.skipped.ownershipUnknown).toBe(2);
      expect(calls(env, 'DeleteSchedule')).toBe(0);
      expect(present('default', 'welcome-1')).toBe(true);
      expect(present('default', 'made-by-code')).toBe(true);
      // Alarm-able: while it stays above 0 those schedules are never deleted.
      expect(metricValues(env, 'OwnershipUnknown')).toEqual([2]);
      expect(log.lines.find((line) => line.message === 'CloudFormation ownership')).toMatchObject({
        source: 'none',
      });
    },
    30_000,
  );

  it('carries its producers across hand-offs: the whole equals an uninterrupted sweep', async () => {
    // Over five pages, producers interleaved on every page.
    const targets = [ORDERS, BILLING, NOTIFY];
    const population: SeedDefinition[] = [];
    for (let index = 0; index < 460; index += 1) {
      const name = `reminder-${String(index).padStart(4, '0')}`;
      const target = targets[index % 3]!;
      if (index % 4 === 3) population.push(aimedAt(oneTime({ name, at: wall(30 * DAY) }), target));
      else if (index % 10 === 0) population.push(stuck(name, target));
      else population.push(finished(name, 'default', target));
    }
    seedBefore(population);
    const whole = summaryOf((await driveChain(env, handlerFor().handler, { dryRun: true })).at(-1));
    await resetServices(env, now);
    seedBefore(population);
    const chain = await driveChain(env, handlerFor().handler, { dryRun: true }, 1);
    const carried = summaryOf(chain.at(-1));
    expect(chain.length).toBeGreaterThan(3);
    expect(whole.producers.finished.total).toBe(345);
    expect(carried.producers).toEqual(whole.producers);
    expect(carried.producers.stuck.total).toBe(carried.stuck);
    expect(carried.wouldDelete).toBe(whole.wouldDelete);
  }, 60_000);
});
