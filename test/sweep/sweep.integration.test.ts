// The sweep against the emulator over HTTP with the real SDK clients: paging, groups, zones and DST,
// windows, dry runs, maxDeletes, throttling storms, 404s and 500s, and the metrics it always publishes.
import { DeleteScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { createSchedulerClient } from '../../src/aws/clients.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { LIST_LOOKAHEAD_PAGES } from '../../src/sweep/listing.ts';
import { MAX_SKIPPED_ARNS } from '../../src/sweep/payload.ts';
import {
  MAX_PAGES_SPANNED,
  PAGE_SIZE,
  type SweepDeps,
  type SweepOptions,
  sweep,
} from '../../src/sweep/sweep.ts';
import { HELD_ELAPSED, useTestEmulator } from '../support/emulator.ts';
import { createTombstoneTable, storedTombstones, tombstoneStore } from '../support/tombstones.ts';
import { key, oneTime, recurring, sweepOptions, tombstones } from './fixtures.ts';

const env = useTestEmulator();

beforeEach(async () => {
  const { plane, services } = env.emulator;
  services.scheduler.reset();
  plane.resetStats();
  Object.assign(plane.controls, {
    rateLimits: {},
    latencyMs: 0,
    latencyByOperation: {},
    errorRates: {},
    throttleRates: {},
    random: Math.random,
  });
  services.cloudwatch.reset();
  await services.dynamodb.reset();
  await createTombstoneTable(env);
});

function seed(definitions: SeedDefinition[], groups: string[] = []) {
  for (const group of groups) env.emulator.services.scheduler.createGroup(group);
  env.emulator.services.scheduler.seed(definitions, { allowUnknownZones: true });
}

function runSweep(overrides: Partial<SweepOptions> = {}) {
  const log = createMemoryLogger();
  const deps: SweepDeps = {
    scheduler: env.scheduler,
    cloudwatch: env.cloudwatch,
    clock: () => env.emulator.plane.now(),
    elapsed: HELD_ELAPSED,
    log,
    tombstones: tombstoneStore(env),
  };
  return { log, result: sweep(deps, sweepOptions(overrides)) };
}

function remaining(definitions: SeedDefinition[]): string[] {
  return definitions
    .filter((definition) =>
      env.emulator.services.scheduler.has(definition.GroupName ?? 'default', definition.Name!),
    )
    .map(key)
    .sort();
}

/** The value the emulated CloudWatch received for a metric (per ScheduleGroup when `group` is given). */
function metric(name: string, group?: string): number | undefined {
  const datums = env.emulator.services.cloudwatch.datums({
    namespace: sweepOptions().namespace,
    metricName: name,
  });
  return datums.find((item) =>
    group === undefined ? item.dimensions.length === 0 : item.dimensions[0]?.Value === group,
  )?.values[0];
}

/** A mixed population over three groups, each schedule labelled with what the sweep must do with it. */
function population(now: Date) {
  const day = 86_400_000;
  const wall = (offsetMs: number) => new Date(now.getTime() + offsetMs).toISOString().slice(0, 19);
  const deleted: SeedDefinition[] = [];
  const pending: SeedDefinition[] = [];
  const recurringOnes: SeedDefinition[] = [];
  const skippedZone: SeedDefinition[] = [];
  const groups = [
    { name: 'default', size: 130 },
    { name: 'orders', size: 120 },
    { name: 'billing', size: 60 },
  ];
  for (const { name: group, size } of groups) {
    for (let index = 0; index < size; index += 1) {
      const name = `${group}-${String(index).padStart(4, '0')}`;
      switch (index % 7) {
        case 0:
        case 1:
          // Five days past, default 24 h retry window, default 60 min grace: finished.
          deleted.push(oneTime({ name, group, at: wall(-5 * day) }));
          break;
        case 2:
          // A past DISABLED at() never fires: finished too (keepDisabled is off).
          deleted.push(oneTime({ name, group, at: wall(-3 * day), state: 'DISABLED' }));
          break;
        case 3:
          pending.push(oneTime({ name, group, at: wall(2 * day) }));
          break;
        case 4:
          // Fired two hours ago; its 24 h retry window is still open.
          pending.push(oneTime({ name, group, at: wall(-2 * 3_600_000) }));
          break;
        case 5:
          recurringOnes.push(recurring(name, index % 2 ? 'rate(5 minutes)' : 'cron(0 12 * * ? *)', group));
          break;
        default: {
          skippedZone.push(oneTime({ name, group, at: wall(-5 * day), zone: 'Mars/Olympus_Mons' }));
        }
      }
    }
  }
  const kept = [...pending, ...recurringOnes, ...skippedZone];
  return { deleted, pending, recurring: recurringOnes, skippedZone, kept, all: [...deleted, ...kept] };
}

describe('sweep', () => {
  it('pages through every group and deletes exactly the finished schedules', async () => {
    // Prepare
    const now = new Date('2025-06-15T12:00:00Z');
    env.emulator.plane.setNow(now);
    const schedules = population(now);
    seed(schedules.all, ['orders', 'billing']);

    // Act
    const { result, log } = runSweep();
    const summary = await result;

    // Assess
    expect(remaining(schedules.all)).toEqual(schedules.kept.map(key).sort());
    expect([...env.emulator.services.scheduler.deletedNames()].sort()).toEqual(
      schedules.deleted.map(key).sort(),
    );
    expect(summary).toMatchObject({
      scanned: schedules.all.length,
      finished: schedules.deleted.length,
      deleted: schedules.deleted.length,
      wouldDelete: 0,
      failed: 0,
      recurring: schedules.recurring.length,
      pending: schedules.pending.length,
      skippedTotal: schedules.skippedZone.length,
      complete: true,
      dryRun: false,
    });
    expect(summary.skipped.unknownTimezone).toBe(schedules.skippedZone.length);
    expect(summary.requests.ListSchedules).toBeGreaterThanOrEqual(4);
    // One lookup per schedule, and the re-reads the gate made before deletes that would otherwise have
    // left more than 100 ms after their last read (a loaded machine, a slow tombstone write).
    expect(summary.requests.GetSchedule).toBe(310 + summary.requests.rereads);
    expect(summary.requests.GetSchedule).toBe(env.emulator.plane.stats.get('GetSchedule')?.calls);
    expect(summary.cursor).toBeUndefined();
    expect(tombstones(log.lines)).toHaveLength(schedules.deleted.length);
    expect(metric('ScheduleCount')).toBe(schedules.kept.length);
    for (const group of ['default', 'orders', 'billing']) {
      const kept = schedules.kept.filter((definition) => definition.GroupName === group).length;
      expect(metric('ScheduleCount', group)).toBe(kept);
    }
    expect(metric('SchedulesDeleted')).toBe(schedules.deleted.length);
    expect(metric('SkippedSchedules')).toBe(schedules.skippedZone.length);
    expect(metric('DeleteFailures')).toBe(0);
  });

  it('sweeps only the configured groups and counts only those', async () => {
    // Prepare
    const now = new Date('2025-06-15T12:00:00Z');
    env.emulator.plane.setNow(now);
    const schedules = population(now);
    seed(schedules.all, ['orders', 'billing']);
    const inScope = (definition: SeedDefinition) => ['orders', 'billing'].includes(definition.GroupName!);

    // Act
    const summary = await runSweep({ groups: ['orders', 'billing'] }).result;

    // Assess
    const expectedRemaining = [...schedules.kept, ...schedules.deleted.filter((item) => !inScope(item))];
    expect(remaining(schedules.all)).toEqual(expectedRemaining.map(key).sort());
    expect(summary.scanned).toBe(schedules.all.filter(inScope).length);
    expect(summary.complete).toBe(true);
    expect(metric('ScheduleCount')).toBeUndefined();
    expect(metric('ScheduleCount', 'orders')).toBe(
      schedules.kept.filter((definition) => definition.GroupName === 'orders').length,
    );
    expect(metric('ScheduleCount', 'default')).toBeUndefined();
  });

  it('resolves at() in its zone, across a DST gap, and honours flexible and retry windows', async () => {
    // Prepare: 2025-03-09 is spring-forward day in the US (02:00 -> 03:00 local).
    env.emulator.plane.setNow(new Date('2025-03-09T12:00:00Z'));
    const deleted = [
      oneTime({ name: 'utc-past-retry', at: '2025-03-09T10:00:00', maximumEventAgeSeconds: 3600 }),
      oneTime({ name: 'utc-short-retry', at: '2025-03-09T11:30:00', maximumEventAgeSeconds: 60 }),
      oneTime({
        name: 'flexible-closed',
        at: '2025-03-09T09:00:00',
        flexibleMinutes: 120,
        maximumEventAgeSeconds: 60,
      }),
      // 20:00 in Tokyo is 11:00 UTC: finished, though a zone-blind reading would keep it.
      oneTime({ name: 'tokyo', at: '2025-03-09T20:00:00', zone: 'Asia/Tokyo', maximumEventAgeSeconds: 60 }),
      // 02:30 does not exist in New York that day: it never fires, and is finished once past.
      oneTime({
        name: 'gap-new-york',
        at: '2025-03-09T02:30:00',
        zone: 'America/New_York',
        maximumEventAgeSeconds: 60,
      }),
      oneTime({
        name: 'offset-zone',
        at: '2025-03-09T13:00:00',
        zone: 'UTC+02:00',
        maximumEventAgeSeconds: 60,
      }),
    ];
    const kept = [
      // Fired 30 minutes ago; AWS's default 24 h retry window is still open.
      oneTime({ name: 'utc-default-retry', at: '2025-03-09T11:30:00' }),
      oneTime({
        name: 'flexible-open',
        at: '2025-03-09T11:00:00',
        flexibleMinutes: 120,
        maximumEventAgeSeconds: 60,
      }),
      // 05:00 in Los Angeles, already on daylight time, is 12:00 UTC: not yet due.
      oneTime({
        name: 'los-angeles',
        at: '2025-03-09T05:00:00',
        zone: 'America/Los_Angeles',
        maximumEventAgeSeconds: 60,
      }),
      // In the Los Angeles gap; every reading of it plus a 3 h retry window ends after 12:00 UTC.
      oneTime({
        name: 'gap-los-angeles',
        at: '2025-03-09T02:30:00',
        zone: 'America/Los_Angeles',
        maximumEventAgeSeconds: 10_800,
      }),
      oneTime({
        name: 'offset-zone-ahead',
        at: '2025-03-09T09:00:00',
        zone: 'UTC-04:00',
        maximumEventAgeSeconds: 60,
      }),
    ];
    seed([...deleted, ...kept]);

    // Act
    const summary = await runSweep({ graceMinutes: 0 }).result;

    // Assess
    expect(remaining([...deleted, ...kept])).toEqual(kept.map(key).sort());
    expect(summary).toMatchObject({ deleted: deleted.length, pending: kept.length, failed: 0 });
  });

  it('keeps a schedule at an ambiguous (fall-back) time until its later reading has passed', async () => {
    // Prepare: 2025-11-02 01:30 happens twice in New York, at 05:30 and 06:30 UTC.
    env.emulator.plane.setNow(new Date('2025-11-02T06:45:00Z'));
    const deleted = oneTime({
      name: 'overlap-short',
      at: '2025-11-02T01:30:00',
      zone: 'America/New_York',
      maximumEventAgeSeconds: 60,
    });
    const kept = oneTime({
      name: 'overlap-half-hour',
      at: '2025-11-02T01:30:00',
      zone: 'America/New_York',
      maximumEventAgeSeconds: 1800,
    });
    seed([deleted, kept]);

    // Act
    await runSweep({ graceMinutes: 0 }).result;

    // Assess
    expect(remaining([deleted, kept])).toEqual([key(kept)]);
  });

  it('deletes nothing in a dry run, stores no tombstone, publishes no metric, and logs each would-be deletion without its target', async () => {
    // Prepare
    const now = new Date('2025-06-15T12:00:00Z');
    env.emulator.plane.setNow(now);
    const schedules = population(now);
    seed(schedules.all, ['orders', 'billing']);
    const target = schedules.deleted[0]!;
    const definition = env.emulator.services.scheduler.get(target.GroupName!, target.Name!);

    // Act
    const { result, log } = runSweep({ dryRun: true });
    const summary = await result;

    // Assess
    expect(remaining(schedules.all)).toHaveLength(schedules.all.length);
    expect(env.emulator.plane.stats.get('DeleteSchedule')?.calls ?? 0).toBe(0);
    expect(summary).toMatchObject({ dryRun: true, deleted: 0, wouldDelete: schedules.deleted.length });
    const lines = tombstones(log.lines);
    expect(lines).toHaveLength(schedules.deleted.length);
    expect(lines.every((line) => line.action === 'wouldDelete')).toBe(true);
    const line = lines.find((candidate) => candidate.name === target.Name);
    // Only these fields describe the schedule; the logger adds its own (level, time, service...).
    expect(Object.keys(line ?? {})).not.toContain('Target');
    expect(JSON.stringify(line)).not.toContain('reminder');
    expect(line).toMatchObject({
      level: 'info',
      message: 'tombstone',
      action: 'wouldDelete',
      arn: definition?.Arn,
      group: target.GroupName ?? 'default',
      name: target.Name,
      expression: definition?.ScheduleExpression,
      ...(definition?.ScheduleExpressionTimezone ? { zone: definition.ScheduleExpressionTimezone } : {}),
      finishedAt: expect.any(String),
      stuck: false,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(await storedTombstones(env)).toEqual([]);
    // It counts what is there, in its summary; it publishes no metric (src/sweep/metrics.ts).
    expect(summary.scheduleCounts.total).toBe(schedules.all.length);
    expect(env.emulator.services.cloudwatch.datums({})).toEqual([]);
  });

  it('stores a tombstone that holds everything needed to recreate the schedule, and logs its key, not its target', async () => {
    // Prepare
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const schedule = oneTime({
      name: 'restorable',
      at: '2025-06-01T09:15:00',
      zone: 'Europe/Paris',
      flexibleMinutes: 15,
      maximumEventAgeSeconds: 600,
    });
    seed([schedule]);
    const before = env.emulator.services.scheduler.get('default', 'restorable');

    // Act
    const { result, log } = runSweep();
    await result;

    // Assess
    const [line] = tombstones(log.lines);
    const [stored] = await storedTombstones(env);
    expect(line).toMatchObject({
      level: 'info',
      message: 'tombstone',
      action: 'deleting',
      arn: before?.Arn,
      group: 'default',
      name: 'restorable',
      expression: 'at(2025-06-01T09:15:00)',
      zone: 'Europe/Paris',
      stuck: false,
      tombstone: stored?.key,
      sha256: stored?.sha256,
    });
    expect(JSON.stringify(line)).not.toContain('reminder');
    expect(stored?.outcome).toBe('deleted');
    expect(stored?.definition).toEqual(JSON.parse(JSON.stringify(before)));
    expect(stored?.definition).toMatchObject({
      ScheduleExpression: 'at(2025-06-01T09:15:00)',
      ScheduleExpressionTimezone: 'Europe/Paris',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      Target: {
        Input: JSON.stringify({ reminder: 'restorable' }),
        RetryPolicy: { MaximumEventAgeInSeconds: 600 },
      },
    });
    expect(stored?.definition).not.toHaveProperty('$metadata');
    expect(remaining([schedule])).toEqual([]);
  });

  it('stops after maxDeletes deletions and says where to resume', async () => {
    // Prepare
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const finished = Array.from({ length: 250 }, (_, index) =>
      oneTime({ name: `bulk-${String(index).padStart(3, '0')}`, at: '2025-06-01T00:00:00' }),
    );
    seed(finished);

    // Act
    const summary = await runSweep({ maxDeletes: 30, concurrency: 8 }).result;

    // Assess
    expect(env.emulator.services.scheduler.deletedNames()).toHaveLength(30);
    expect(remaining(finished)).toHaveLength(220);
    expect(summary).toMatchObject({ deleted: 30, complete: false, stoppedBy: 'maxDeletes' });
    expect(summary.cursor).toMatchObject({ groupIndex: 0 });
    expect(metric('ScheduleCount')).toBeUndefined();
    expect(metric('SchedulesDeleted')).toBe(30);
  });

  it('counts maxDeletes in a dry run by the deletions it would make', async () => {
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const finished = Array.from({ length: 40 }, (_, index) =>
      oneTime({ name: `dry-${index}`, at: '2025-06-01T00:00:00' }),
    );
    seed(finished);

    const summary = await runSweep({ maxDeletes: 5, dryRun: true }).result;

    expect(summary).toMatchObject({ wouldDelete: 5, deleted: 0, stoppedBy: 'maxDeletes' });
    expect(remaining(finished)).toHaveLength(40);
  });

  it('ends a storm in which a third of all calls are throttled with the right result', async () => {
    // Prepare
    const now = new Date('2025-06-15T12:00:00Z');
    env.emulator.plane.setNow(now);
    const schedules = population(now);
    seed(schedules.all, ['orders', 'billing']);
    env.emulator.plane.controls.throttleRates = { '*': 0.33 };

    // Act
    const summary = await runSweep({ concurrency: 32 }).result;

    // Assess
    expect(remaining(schedules.all)).toEqual(schedules.kept.map(key).sort());
    expect(summary.failed).toBe(0);
    expect(summary.throttled).toBeGreaterThan(50);
    expect(summary.complete).toBe(true);
  });

  it('retries 500s and still ends with the right result', async () => {
    // Prepare: every other request answers 500, so each call fails at most once before it succeeds.
    const now = new Date('2025-06-15T12:00:00Z');
    env.emulator.plane.setNow(now);
    const finished = Array.from({ length: 12 }, (_, index) =>
      oneTime({ name: `old-${index}`, at: '2025-06-01T00:00:00' }),
    );
    const future = Array.from({ length: 8 }, (_, index) =>
      oneTime({ name: `new-${index}`, at: '2025-07-01T00:00:00' }),
    );
    seed([...finished, ...future]);
    let draws = 0;
    Object.assign(env.emulator.plane.controls, {
      errorRates: { ListSchedules: 0.5, GetSchedule: 0.5, DeleteSchedule: 0.5 },
      random: () => (draws++ % 2 === 0 ? 0 : 0.99),
    });

    // Act
    const summary = await runSweep({ concurrency: 1 }).result;

    // Assess
    expect(remaining([...finished, ...future])).toEqual(future.map(key).sort());
    expect(summary).toMatchObject({ deleted: 12, pending: 8, failed: 0 });
    const injected = ['ListSchedules', 'GetSchedule', 'DeleteSchedule'].map(
      (operation) => env.emulator.plane.stats.get(operation)?.injectedErrors ?? 0,
    );
    expect(injected.every((count) => count > 0)).toBe(true);
  });

  it('counts a schedule removed between its lookup and its deletion as already gone', async () => {
    // Prepare
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const finished = ['first', 'vanishing', 'last'].map((name) =>
      oneTime({ name, at: '2025-06-01T00:00:00' }),
    );
    seed(finished);
    const someoneElse = createSchedulerClient(env.clientOptions);
    const scheduler = createSchedulerClient({ ...env.clientOptions, maxAttempts: 1 });
    const sweepRequests: string[] = [];
    // Someone else deletes it right after the sweep has read it, before the sweep's own delete.
    scheduler.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Name?: string };
        sweepRequests.push(`${context.commandName} ${input.Name}`);
        const output = await next(args);
        if (
          context.commandName === 'GetScheduleCommand' &&
          input.Name === 'vanishing' &&
          sweepRequests.filter((r) => r === 'GetScheduleCommand vanishing').length === 1
        ) {
          await someoneElse.send(new DeleteScheduleCommand({ Name: 'vanishing', GroupName: 'default' }));
        }
        return output;
      },
      { step: 'initialize', name: 'concurrentDelete' },
    );
    const log = createMemoryLogger();

    // Act
    const summary = await sweep(
      {
        scheduler,
        cloudwatch: env.cloudwatch,
        clock: () => env.emulator.plane.now(),
        log,
        tombstones: tombstoneStore(env),
      },
      sweepOptions(),
    );

    // Assess
    expect(summary).toMatchObject({ finished: 3, deleted: 2, alreadyGone: 1, failed: 0 });
    expect(remaining(finished)).toEqual([]);
    // The sweep's own delete of 'vanishing' answers 404, unless its delete waited more than 100 ms
    // after the lookup (a loaded machine) and the re-read before it found the schedule gone: then no
    // delete is sent. Either way it is counted once, as already gone.
    const ownDeletes = sweepRequests.filter((r) => r === 'DeleteScheduleCommand vanishing').length;
    const rereads = sweepRequests.filter((r) => r === 'GetScheduleCommand vanishing').length - 1;
    expect(ownDeletes + rereads).toBe(1);
    expect(env.emulator.plane.stats.get('DeleteSchedule')?.calls).toBe(3 + ownDeletes);
    expect(metric('ScheduleCount')).toBe(0);
  });

  it('counts a delete whose answer was lost to a 5xx as deleted, retrying it with the same token', async () => {
    // Prepare: the first DeleteSchedule goes through but its answer is lost as a 500
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const finished = [oneTime({ name: 'lost-answer', at: '2025-06-01T00:00:00' })];
    seed(finished);
    const scheduler = createSchedulerClient({ ...env.clientOptions, maxAttempts: 1 });
    const tokens: string[] = [];
    scheduler.middlewareStack.add(
      (next, context) => async (args) => {
        const output = await next(args);
        if (context.commandName !== 'DeleteScheduleCommand') return output;
        tokens.push((args.input as { ClientToken?: string }).ClientToken ?? '');
        if (tokens.length === 1) {
          throw Object.assign(new Error('answer lost'), {
            name: 'InternalServerException',
            $metadata: { httpStatusCode: 500 },
          });
        }
        return output;
      },
      { step: 'initialize', name: 'loseFirstDeleteAnswer' },
    );

    // Act
    const summary = await sweep(
      {
        scheduler,
        cloudwatch: env.cloudwatch,
        clock: () => env.emulator.plane.now(),
        log: createMemoryLogger(),
        tombstones: tombstoneStore(env),
      },
      sweepOptions(),
    );

    // Assess
    expect(summary).toMatchObject({ deleted: 1, alreadyGone: 0, failed: 0 });
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBe(tokens[0]);
    expect(remaining(finished)).toEqual([]);
  });

  it('looks a schedule up again before a delete delayed by a slow tombstone write, and leaves it alone if it changed meanwhile', async () => {
    // Prepare: an application reuses 'reused' (UpdateSchedule) right after the sweep has read it, and
    // every tombstone write takes 300 ms (a slow DynamoDB), far past the default 100 ms re-read window
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const finished = ['reused', 'untouched'].map((name) => oneTime({ name, at: '2025-06-01T00:00:00' }));
    seed(finished);
    const application = createSchedulerClient(env.clientOptions);
    const scheduler = createSchedulerClient({ ...env.clientOptions, maxAttempts: 1 });
    let reused = false;
    scheduler.middlewareStack.add(
      (next, context) => async (args) => {
        const output = await next(args);
        const input = args.input as { Name?: string };
        if (context.commandName === 'GetScheduleCommand' && input.Name === 'reused' && !reused) {
          reused = true;
          env.emulator.plane.setNow(new Date('2025-06-15T12:00:05Z'));
          await application.send(
            new UpdateScheduleCommand({ ...finished[0]!, ScheduleExpression: 'at(2025-07-01T00:00:00)' }),
          );
        }
        return output;
      },
      { step: 'initialize', name: 'applicationReuses' },
    );
    const store = tombstoneStore(env);
    const slowStore = {
      ...store,
      write: async (entry: Parameters<typeof store.write>[0]) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return store.write(entry);
      },
    };

    // Act: at the default re-read window
    const summary = await sweep(
      {
        scheduler,
        cloudwatch: env.cloudwatch,
        clock: () => env.emulator.plane.now(),
        log: createMemoryLogger(),
        tombstones: slowStore,
      },
      sweepOptions({}),
    );

    // Assess
    expect(summary).toMatchObject({ deleted: 1, failed: 0 });
    expect(summary.skipped.changedDuringSweep).toBe(1);
    expect(summary.requests.rereads).toBeGreaterThanOrEqual(2);
    expect(remaining(finished)).toEqual([key(finished[0]!)]);
  });

  it('publishes its metrics even when listing fails part-way, then reports the failure', async () => {
    // Prepare
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const finished = Array.from({ length: 150 }, (_, index) =>
      oneTime({ name: `p-${String(index).padStart(3, '0')}`, at: '2025-06-01T00:00:00' }),
    );
    seed(finished);
    const scheduler = createSchedulerClient({ ...env.clientOptions, maxAttempts: 1 });
    // After the first page, ListSchedules answers 500 for good.
    scheduler.middlewareStack.add(
      (next, context) => async (args) => {
        const output = await next(args);
        if (context.commandName === 'ListSchedulesCommand') {
          env.emulator.plane.controls.errorRates = { ListSchedules: 1 };
        }
        return output;
      },
      { step: 'initialize', name: 'listFailsAfterFirstPage' },
    );
    const log = createMemoryLogger();

    // Act
    const run = sweep(
      {
        scheduler,
        cloudwatch: env.cloudwatch,
        clock: () => env.emulator.plane.now(),
        elapsed: HELD_ELAPSED,
        log,
        tombstones: tombstoneStore(env),
      },
      sweepOptions(),
    );

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'InternalServerException' });
    expect(env.emulator.services.scheduler.deletedNames()).toHaveLength(100);
    expect(metric('SchedulesDeleted')).toBe(100);
    expect(metric('FinishedSchedulesFound')).toBe(100);
    expect(metric('ScheduleCount')).toBeUndefined();
    const failure = log.lines.find((line) => line.message === 'sweep failed');
    expect(failure?.summary).toMatchObject({
      complete: false,
      stoppedBy: 'error',
      cursor: { groupIndex: 0 },
    });
  });

  it('stops cleanly between pages when asked, with a cursor that resumes where it stopped', async () => {
    // Prepare
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const finished = Array.from({ length: 250 }, (_, index) =>
      oneTime({ name: `r-${String(index).padStart(3, '0')}`, at: '2025-06-01T00:00:00' }),
    );
    seed(finished);
    let pagesAllowed = 2;

    // Act
    const first = await runSweep({ shouldStop: () => pagesAllowed-- <= 0 }).result;
    const second = await runSweep({ ...(first.cursor ? { cursor: first.cursor } : {}) }).result;

    // Assess
    expect(first).toMatchObject({ scanned: 200, deleted: 200, complete: false, stoppedBy: 'time' });
    expect(first.cursor?.nextToken).toEqual(expect.any(String));
    expect(second).toMatchObject({ scanned: 50, deleted: 50, complete: true });
    expect(remaining(finished)).toEqual([]);
  });

  it('treats a configured group that does not exist as empty', async () => {
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const finished = oneTime({ name: 'only', at: '2025-06-01T00:00:00' });
    seed([finished]);

    const { result, log } = runSweep({ groups: ['missing-group', 'default'] });
    const summary = await result;

    expect(summary).toMatchObject({ deleted: 1, complete: true });
    expect(log.lines).toContainEqual(
      expect.objectContaining({ message: 'schedule group not found', group: 'missing-group' }),
    );
    expect(metric('ScheduleCount', 'missing-group')).toBe(0);
  });
});

describe('sweep streaming', () => {
  it(`holds at most ${LIST_LOOKAHEAD_PAGES + 2} pages: two worked on and ${LIST_LOOKAHEAD_PAGES} listed ahead while they are looked up`, async () => {
    // Prepare: lookups slow enough that the listing runs as far ahead as it may
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const schedules = Array.from({ length: 1_150 }, (_, index) =>
      oneTime({ name: `s-${String(index).padStart(4, '0')}`, at: '2025-07-01T00:00:00' }),
    );
    seed(schedules);
    env.emulator.plane.controls.latencyByOperation = { GetSchedule: 5 };
    const scheduler = createSchedulerClient({ ...env.clientOptions, maxAttempts: 1 });
    let listed = 0;
    let looked = 0;
    const aheadAtEachList: number[] = [];
    scheduler.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListSchedulesCommand') aheadAtEachList.push(listed - looked);
        const output = await next(args);
        if (context.commandName === 'ListSchedulesCommand') {
          listed += (output.output as { Schedules?: unknown[] }).Schedules?.length ?? 0;
        }
        if (context.commandName === 'GetScheduleCommand') looked += 1;
        return output;
      },
      { step: 'initialize', name: 'countAhead' },
    );

    // Act
    const summary = await sweep(
      {
        scheduler,
        cloudwatch: env.cloudwatch,
        clock: () => env.emulator.plane.now(),
        elapsed: HELD_ELAPSED,
        log: createMemoryLogger(),
        tombstones: tombstoneStore(env),
      },
      sweepOptions({ concurrency: 8 }),
    );

    // Assess
    expect(summary.scanned).toBe(schedules.length);
    expect(aheadAtEachList).toHaveLength(12);
    // When a page is requested, what is listed and not yet looked up is at most the two pages worked
    // on and the pages listed ahead but one (the page requested is the last of those).
    const bound = (2 + LIST_LOOKAHEAD_PAGES - 1) * PAGE_SIZE;
    expect(Math.max(...aheadAtEachList)).toBeLessThanOrEqual(bound);
    // ...and the listing does run ahead: more than one page beyond the pages worked on.
    expect(Math.max(...aheadAtEachList)).toBeGreaterThan(2 * PAGE_SIZE);
  });

  it(`lists at most ${MAX_PAGES_SPANNED} + ${LIST_LOOKAHEAD_PAGES} pages past one slow item, so a cursor's skip stays within ${MAX_SKIPPED_ARNS} ARNs`, async () => {
    // Prepare: 20 pages of schedules not due; the lookup of one schedule on the first page hangs
    // until the test lets it go, while every other lookup answers at once.
    expect(MAX_PAGES_SPANNED * PAGE_SIZE).toBeLessThanOrEqual(MAX_SKIPPED_ARNS);
    env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
    const schedules = Array.from({ length: 20 * PAGE_SIZE }, (_, index) =>
      oneTime({ name: `s-${String(index).padStart(4, '0')}`, at: '2025-07-01T00:00:00' }),
    );
    seed(schedules);
    const scheduler = createSchedulerClient({ ...env.clientOptions, maxAttempts: 1 });
    let release: () => void = () => {};
    const slow = new Promise<void>((resolve) => (release = resolve));
    let listed = 0;
    let looked = 0;
    scheduler.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Name?: string };
        if (context.commandName === 'GetScheduleCommand' && input.Name === 's-0005') await slow;
        const output = await next(args);
        if (context.commandName === 'ListSchedulesCommand') {
          listed += (output.output as { Schedules?: unknown[] }).Schedules?.length ?? 0;
        }
        if (context.commandName === 'GetScheduleCommand') looked += 1;
        return output;
      },
      { step: 'initialize', name: 'slowItem' },
    );

    // Act: the sweep runs until nothing more is listed or looked up for half a second
    const run = sweep(
      {
        scheduler,
        cloudwatch: env.cloudwatch,
        clock: () => env.emulator.plane.now(),
        elapsed: HELD_ELAPSED,
        log: createMemoryLogger(),
        tombstones: tombstoneStore(env),
      },
      sweepOptions({ concurrency: 16 }),
    );
    let quiet = 0;
    let last = '';
    while (quiet < 10) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const now = `${listed}/${looked}`;
      if (now === last && looked > 0) quiet += 1;
      else quiet = 0;
      last = now;
    }
    const listedWhileHeld = listed;
    release();
    const summary = await run;

    // Assess: the pages from the slow item's on span at most MAX_PAGES_SPANNED, plus the pages read ahead
    expect(listedWhileHeld).toBeLessThanOrEqual((MAX_PAGES_SPANNED + LIST_LOOKAHEAD_PAGES) * PAGE_SIZE);
    expect(listedWhileHeld).toBeGreaterThanOrEqual(MAX_PAGES_SPANNED * PAGE_SIZE);
    expect(summary).toMatchObject({ scanned: schedules.length, pending: schedules.length, failed: 0 });
  });
});
