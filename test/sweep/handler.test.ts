// The sweep Lambda as operators call it: payloads checked before any AWS call, then the real sweep.
import { beforeEach, describe, expect, it } from 'vitest';
import { createSweepHandler } from '../../src/handlers/sweep.ts';
import { createMemoryLogger, survivable } from '../../src/log.ts';
import { readSweepConfig } from '../../src/sweep/config.ts';
import { HELD_ELAPSED, useTestEmulator } from '../support/emulator.ts';
import { scheduledEvent } from '../support/scheduled-event.ts';
import { createTombstoneTable, TOMBSTONE_TABLE, tombstoneMacKey } from '../support/tombstones.ts';

const STATE_TABLE = 'schedule-hygiene-test-handler-state';

import { key, oneTime } from './fixtures.ts';

const env = useTestEmulator();

const finished = oneTime({ name: 'finished', at: '2025-06-01T00:00:00' });
const future = oneTime({ name: 'future', at: '2025-07-01T00:00:00' });

beforeEach(async () => {
  env.emulator.services.scheduler.reset();
  env.emulator.plane.resetStats();
  env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
  env.emulator.services.scheduler.seed([finished, future]);
  env.emulator.services.cloudwatch.reset();
  env.emulator.plane.controls.errorRates = {};
  await env.emulator.services.dynamodb.reset();
  await createTombstoneTable(env);
  await env.emulator.services.dynamodb.createTable(STATE_TABLE, { hash: 'pk' });
});

function heartbeats(): number {
  return env.emulator.services.cloudwatch.datums({ metricName: 'SweepInvocations' }).length;
}

function createHandler(settings: Record<string, string> = { SWEEP_STATE_TABLE: STATE_TABLE }) {
  const log = createMemoryLogger();
  const handler = createSweepHandler({
    scheduler: env.scheduler,
    cloudwatch: env.cloudwatch,
    dynamodb: env.dynamodb,
    kms: env.kms,
    config: readSweepConfig({
      SWEEP_LIST_TPS: '1000',
      SWEEP_GET_TPS: '1000',
      SWEEP_DELETE_TPS: '1000',
      SWEEP_TOMBSTONE_TABLE: TOMBSTONE_TABLE,
      SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env),
      ...settings,
    }),
    clock: () => env.emulator.plane.now(),
    elapsed: HELD_ELAPSED,
    log,
  });
  return { handler, log };
}

function schedulerCalls(): number {
  return ['ListSchedules', 'GetSchedule', 'DeleteSchedule'].reduce(
    (sum, operation) => sum + (env.emulator.plane.stats.get(operation)?.calls ?? 0),
    0,
  );
}

function present(): string[] {
  return [finished, future]
    .filter((item) => env.emulator.services.scheduler.has('default', item.Name!))
    .map(key);
}

describe('sweep handler', () => {
  it.each([
    [
      'a misspelt dryRun',
      { dryrun: true },
      /Unknown field 'dryrun' \(did you mean 'dryRun'\?\) in sweep payload/,
    ],
    ['dryRun as a string', { dryRun: 'true' }, /Invalid dryRun: expected true or false/],
    ['maxDeletes of zero', { maxDeletes: 0 }, /Invalid maxDeletes: expected a whole number of at least 1/],
    [
      'a bad group name',
      { groups: ['no spaces allowed'] },
      /Invalid groups\[0\]: expected a schedule group name/,
    ],
    [
      'graceMinutes out of range',
      { graceMinutes: 20_000 },
      /Invalid graceMinutes: expected a whole number from 0 to 10080/,
    ],
    ['a payload that is not an object', 'dryRun', /Invalid sweep payload: expected a JSON object/],
  ])(
    'rejects %s with a clear message before any AWS call, deleting nothing',
    async (_label, payload, message) => {
      // Prepare
      const { handler } = createHandler();

      // Act
      const run = handler(payload);

      // Assess
      await expect(run).rejects.toThrow(message);
      expect(schedulerCalls()).toBe(0);
      expect(heartbeats()).toBe(0);
      expect(present()).toEqual([key(finished), key(future)]);
    },
  );

  it('refuses a sweep that deletes without the state table, which holds the names restore --keep protects (dry runs may go without)', async () => {
    // Prepare: no SWEEP_STATE_TABLE
    const { handler } = createHandler({});

    // Act (each awaited in turn: a rejection left pending while the dry run runs is reported
    // by vitest as unhandled)
    const refusal = await handler(scheduledEvent()).then(
      () => undefined,
      (error: unknown) => error,
    );
    const dry = await handler({ dryRun: true });

    // Assess: refused before any request, naming the variable; a dry run still answers
    expect(String(refusal)).toMatch(/Invalid SWEEP_STATE_TABLE: expected the name of the state table/);
    expect(present()).toEqual([key(finished), key(future)]);
    expect(dry).toMatchObject({ wouldDelete: 1, deleted: 0 });
  });

  it('runs the configured sweep on the scheduled event and returns the summary', async () => {
    // Prepare
    const { handler, log } = createHandler();

    // Act
    const summary = await handler(scheduledEvent(), { getRemainingTimeInMillis: () => 900_000 });

    // Assess
    expect(summary).toMatchObject({ scanned: 2, deleted: 1, pending: 1, dryRun: false, complete: true });
    expect(present()).toEqual([key(future)]);
    // As logged: maps keyed by group (null-prototype) as their entries (src/log.ts, survivable).
    const logged = JSON.parse(JSON.stringify(survivable({ summary })));
    expect(log.lines).toContainEqual(expect.objectContaining({ message: 'sweep finished', ...logged }));
  });

  it("logs every group's count in 'sweep finished', groups named __proto__ and constructor included", async () => {
    // Prepare
    for (const group of ['__proto__', 'constructor']) {
      env.emulator.services.scheduler.createGroup(group);
      env.emulator.services.scheduler.seed([oneTime({ name: 'later', group, at: '2025-07-01T00:00:00' })]);
    }
    const { handler, log } = createHandler();

    // Act
    const summary = await handler(scheduledEvent(), { getRemainingTimeInMillis: () => 900_000 });
    const line = log.lines.find((candidate) => candidate.message === 'sweep finished') as {
      summary: { scheduleCounts: { total: number; byGroup: [string, number][] } };
    };

    // Assess
    expect(summary).toMatchObject({ scheduleCounts: { total: 3 } });
    expect(line.summary.scheduleCounts.total).toBe(3);
    expect(line.summary.scheduleCounts.byGroup).toEqual(
      expect.arrayContaining([
        ['__proto__', 1],
        ['constructor', 1],
        ['default', 1],
      ]),
    );
    const logged = line.summary.scheduleCounts.byGroup.reduce((sum, [, count]) => sum + count, 0);
    expect(logged).toBe(line.summary.scheduleCounts.total);
  });

  it('honours a manual dry run', async () => {
    const { handler } = createHandler();

    const summary = await handler({ dryRun: true });

    expect(summary).toMatchObject({ dryRun: true, wouldDelete: 1, deleted: 0 });
    expect(present()).toEqual([key(finished), key(future)]);
  });

  it('stops before listing when the Lambda deadline is too close', async () => {
    const { handler } = createHandler();

    const summary = await handler(undefined, { getRemainingTimeInMillis: () => 5_000 });

    expect(summary).toMatchObject({
      scanned: 0,
      complete: false,
      stoppedBy: 'time',
      cursor: { groupIndex: 0 },
    });
    expect(present()).toEqual([key(finished), key(future)]);
  });

  it('sends one heartbeat per invocation, whatever it came to, and none for a rejected payload', async () => {
    // Prepare
    const { handler } = createHandler();

    // Act: one good run, then one whose listing fails for good
    await handler({});
    env.emulator.plane.controls.errorRates = { ListSchedules: 1 };
    await expect(handler({})).rejects.toThrow();

    // Assess
    expect(heartbeats()).toBe(2);
    expect(env.emulator.services.cloudwatch.datums({ metricName: 'SweepInvocations' })[0]?.values).toEqual([
      1,
    ]);
  });
});

describe('sweep metrics by scope (finding 9 of issue 16)', () => {
  function sweepMetrics(): string[] {
    return env.emulator.services.cloudwatch
      .datums({})
      .filter((datum) => datum.metricName !== undefined)
      .map((datum) => datum.metricName);
  }
  const completed = () =>
    env.emulator.services.cloudwatch
      .datums({ metricName: 'SweepsCompleted' })
      .flatMap((datum) => datum.values);

  beforeEach(() => {
    env.emulator.services.scheduler.createGroup('orders');
    env.emulator.services.scheduler.seed([
      oneTime({ name: 'shipped', group: 'orders', at: '2025-06-01T00:00:00' }),
    ]);
  });

  it('a manual dry run of one group publishes no sweep metrics at all, heartbeat included, and logs its summary', async () => {
    // Prepare
    const { handler, log } = createHandler();

    // Act
    const summary = await handler({ dryRun: true, groups: ['orders'] });

    // Assess
    expect(summary).toMatchObject({ dryRun: true, complete: true, wouldDelete: 1 });
    expect(sweepMetrics()).toEqual([]);
    expect(log.lines).toContainEqual(expect.objectContaining({ message: 'sweep finished' }));
  });

  it('a dry run of the whole configured scope publishes no sweep metrics either', async () => {
    const { handler } = createHandler();

    const summary = await handler({ dryRun: true });

    expect(summary).toMatchObject({ dryRun: true, complete: true, wouldDelete: 2 });
    expect(sweepMetrics()).toEqual([]);
  });

  it.each([
    ['narrowed to one group', { groups: ['orders'] }],
    ['narrowed by a name prefix', { namePrefix: 'fin' }],
  ])('a real sweep %s publishes its totals with SweepsCompleted = 0', async (_label, request) => {
    const { handler } = createHandler();

    const summary = await handler(request);

    expect(summary).toMatchObject({ dryRun: false, complete: true, deleted: 1 });
    expect(completed()).toEqual([0]);
    expect(env.emulator.services.cloudwatch.datums({ metricName: 'SchedulesDeleted' })[0]?.values).toEqual([
      1,
    ]);
    expect(heartbeats()).toBe(1);
  });

  it('only a complete real sweep of the configured scope publishes SweepsCompleted = 1', async () => {
    const { handler } = createHandler();

    const summary = await handler({});

    expect(summary).toMatchObject({ dryRun: false, complete: true, deleted: 2 });
    expect(completed()).toEqual([1]);
  });
});

describe('sweep handler capacity check', () => {
  // The backlog settings of serverless.yml and docs/scale.md: one vCPU's worth of requests.
  const backlog = { SWEEP_LIST_TPS: '50', SWEEP_GET_TPS: '950', SWEEP_DELETE_TPS: '950' };
  const quotaSpeed = { SWEEP_LIST_TPS: '50', SWEEP_GET_TPS: '1000', SWEEP_DELETE_TPS: '1000' };

  function coldStart(variables: Record<string, string>, memoryMb: number | undefined) {
    const log = createMemoryLogger();
    createSweepHandler({
      scheduler: env.scheduler,
      cloudwatch: env.cloudwatch,
      config: readSweepConfig(variables),
      log,
      ...(memoryMb === undefined ? {} : { memoryMb }),
    });
    return log.lines.filter((line) => line.level === 'warn');
  }

  it('warns at cold start when the budgets ask for more requests than the memory size gives CPU for', () => {
    // Act: quota-speed budgets (2,050 requests/s at most) on 512 MB
    const warnings = coldStart(quotaSpeed, 512);

    // Assess
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      message: expect.stringMatching(/memory size/),
      memoryMb: 512,
      peakRequestsPerSecond: 2050,
      budgets: { list: 50, get: 1000, delete: 1000 },
    });
    expect(warnings[0]?.sustainableRequestsPerSecond).toBeLessThan(2050);
    expect(warnings[0]?.neededMemoryMb).toBeGreaterThan(512);
  });

  it('stays quiet with the default budgets on the deployed memory size, with the backlog settings on one vCPU, and off Lambda', () => {
    expect(coldStart({}, 320)).toEqual([]);
    expect(coldStart(backlog, 1769)).toEqual([]);
    expect(coldStart(quotaSpeed, undefined)).toEqual([]);
  });

  it('warns that the default quotas at full speed (2,050 requests/s) are past one thread even on one vCPU', () => {
    const warnings = coldStart(quotaSpeed, 1769);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ peakRequestsPerSecond: 2050, sustainableRequestsPerSecond: 2000 });
  });
});
