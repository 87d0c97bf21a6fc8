// Resumable sweeps through the real handler, the real SDK clients and the emulator: a sweep cut short
// by its deadline hands itself on (recorded Lambda invocations, replayed here as Lambda would) and
// ends with exactly the result and totals of an uninterrupted sweep, published once. The lease keeps
// a second sweep out, and lets a dead run's sweep be taken over.
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import type { SweepResponse } from '../../src/handlers/sweep.ts';
import { LEASE_KEY } from '../../src/state/lease.ts';
import { parseSweepEvent } from '../../src/sweep/payload.ts';
import type { SweepSummary } from '../../src/sweep/sweep.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { key } from './fixtures.ts';
import {
  calls,
  createStatefulHandler,
  driveChain,
  metricValues,
  mixedPopulation,
  pageBudget,
  resetServices,
  SCHEDULED_EVENT,
  STATE_TABLE,
  seed,
  takeHandOffs,
} from './resume-support.ts';

const now = new Date('2025-06-15T12:00:00Z');
const MINUTE = 60_000;

const env = useTestEmulator();

beforeEach(() => resetServices(env, now));

// default spans three pages and orders two: with two pages per invocation a group is cut mid-way.
const population = () => mixedPopulation(now, { default: 250, orders: 200 });

type RunSummary = Extract<SweepResponse, { scanned: number }>;

function summaryOf(result: SweepResponse | undefined): RunSummary {
  if (!result || !('scanned' in result)) throw new Error(`expected a summary, got ${JSON.stringify(result)}`);
  return result;
}

function present(definitions: SeedDefinition[]): string[] {
  return definitions
    .filter((definition) =>
      env.emulator.services.scheduler.has(definition.GroupName ?? 'default', definition.Name!),
    )
    .map(key)
    .sort();
}

const totals = (summary: Omit<SweepSummary, 'progress' | 'tallies'>) => ({
  scanned: summary.scanned,
  finished: summary.finished,
  deleted: summary.deleted,
  pending: summary.pending,
  recurring: summary.recurring,
  skipped: summary.skipped,
  failed: summary.failed,
  alreadyGone: summary.alreadyGone,
  scheduleCounts: summary.scheduleCounts,
  DeleteSchedule: summary.requests.DeleteSchedule,
});

async function leaseHolder(): Promise<string | undefined> {
  return (await env.emulator.services.dynamodb.items(STATE_TABLE)).find((item) => item.pk?.S === LEASE_KEY)
    ?.runId?.S;
}

describe('resumable sweep', () => {
  it.each([
    ['every group in one listing', {}],
    ['named groups, one listed after the other', { SWEEP_GROUPS: 'default,orders' }],
  ])(
    'cut short every two pages, continues across invocations to the result and totals of an uninterrupted sweep (%s)',
    async (_label, settings) => {
      // Prepare: the uninterrupted sweep, for comparison
      const { all, finished, kept } = population();
      seed(env, all);
      const whole = summaryOf(
        (await driveChain(env, createStatefulHandler(env, settings).handler, SCHEDULED_EVENT))[0],
      );
      const wholeDeletedMetric = metricValues(env, 'SchedulesDeleted');
      const wholeCountMetric = metricValues(env, 'ScheduleCount');
      await resetServices(env, now);
      seed(env, all);
      const { handler } = createStatefulHandler(env, settings);

      // Act
      const results = await driveChain(env, handler, SCHEDULED_EVENT, 2);

      // Assess
      const last = summaryOf(results.at(-1));
      expect(results.length).toBeGreaterThanOrEqual(3);
      expect(results.slice(0, -1).map((result) => result.status)).toEqual(
        Array(results.length - 1).fill('continuing'),
      );
      expect(last).toMatchObject({ status: 'finished', complete: true, invocation: results.length });
      expect(totals(last)).toEqual(totals(whole));
      // Every schedule looked up once over all invocations (a delete that waited over 100 ms on a
      // loaded machine re-reads first), and every request sent is counted.
      expect(last.requests.GetSchedule).toBe(calls(env, 'GetSchedule'));
      expect(last.requests.GetSchedule).toBeGreaterThanOrEqual(all.length);
      expect(last.requests.GetSchedule).toBe(all.length + last.requests.rereads);
      expect(last.deleted).toBe(finished.length);
      expect(present(all)).toEqual(kept.map(key).sort());
      // Metrics describe the whole sweep, published once, by the last invocation.
      expect(metricValues(env, 'SchedulesDeleted')).toEqual(wholeDeletedMetric);
      expect(metricValues(env, 'SchedulesDeleted')).toEqual([finished.length]);
      expect(metricValues(env, 'ScheduleCount')).toEqual(wholeCountMetric);
      expect(metricValues(env, 'ScheduleCount', 'default')).toHaveLength(1);
      expect(await leaseHolder()).toBeUndefined();
    },
  );

  it('carries maxDeletes over the whole sweep, not per invocation', async () => {
    // Prepare
    const { all } = population();
    seed(env, all);
    const { handler } = createStatefulHandler(env);

    // Act: the 120th deletion falls on the second page of the second invocation, after its deadline
    // check, while the pages already listed drain.
    const results = await driveChain(env, handler, { maxDeletes: 120 }, 2);

    // Assess
    const last = summaryOf(results.at(-1));
    expect(results.length).toBeGreaterThan(1);
    expect(last).toMatchObject({
      status: 'finished',
      deleted: 120,
      complete: false,
      stoppedBy: 'maxDeletes',
    });
    expect(calls(env, 'DeleteSchedule')).toBe(120);
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([120]);
  });

  it('keeps a dry run dry in every invocation', async () => {
    const { all, finished } = population();
    seed(env, all);
    const { handler } = createStatefulHandler(env);

    const results = await driveChain(env, handler, { dryRun: true }, 2);

    expect(results.length).toBeGreaterThan(2);
    expect(summaryOf(results.at(-1))).toMatchObject({
      dryRun: true,
      wouldDelete: finished.length,
      deleted: 0,
    });
    expect(calls(env, 'DeleteSchedule')).toBe(0);
    expect(present(all)).toHaveLength(all.length);
  });

  it('refuses a trigger that arrives while a sweep is in progress, touching nothing', async () => {
    // Prepare: the first invocation of a chain has handed on
    const { all, finished } = population();
    seed(env, all);
    const { handler, log } = createStatefulHandler(env);
    const first = summaryOf(await handler(SCHEDULED_EVENT, pageBudget(env, 2)));
    const queued = takeHandOffs(env);
    const schedulerCallsBefore = ['ListSchedules', 'GetSchedule', 'DeleteSchedule'].map((op) =>
      calls(env, op),
    );

    // Act
    const refused = await handler(SCHEDULED_EVENT, pageBudget(env));

    // Assess
    expect(first.status).toBe('continuing');
    expect(refused).toEqual({
      status: 'alreadyRunning',
      holder: await leaseHolder(),
      leaseUntil: expect.any(String),
    });
    expect(['ListSchedules', 'GetSchedule', 'DeleteSchedule'].map((op) => calls(env, op))).toEqual(
      schedulerCallsBefore,
    );
    expect(takeHandOffs(env)).toEqual([]);
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ message: 'a sweep is already running; this trigger does nothing' }),
    );

    // The chain itself goes on undisturbed.
    const rest = await driveChain(env, handler, queued[0], 2);
    expect(summaryOf(rest.at(-1))).toMatchObject({
      status: 'finished',
      complete: true,
      deleted: finished.length,
    });
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([finished.length]);
  });

  it('sweeps once when the same continuation is delivered twice, the copy touching nothing', async () => {
    // Prepare: the first invocation hands on; Lambda's async queue delivers at least once
    const { all, finished } = population();
    seed(env, all);
    const { handler } = createStatefulHandler(env);
    await handler(SCHEDULED_EVENT, pageBudget(env, 2));
    const [continuation] = takeHandOffs(env);
    const second = await handler(continuation, pageBudget(env, 2));
    const schedulerCallsBefore = ['ListSchedules', 'GetSchedule', 'DeleteSchedule'].map((op) =>
      calls(env, op),
    );

    // Act: the copy of invocation 2 arrives after the original moved the run on
    const copy = await handler(continuation, pageBudget(env, 2));

    // Assess
    expect(summaryOf(second).status).toBe('continuing');
    expect(copy).toMatchObject({ status: 'superseded' });
    expect(['ListSchedules', 'GetSchedule', 'DeleteSchedule'].map((op) => calls(env, op))).toEqual(
      schedulerCallsBefore,
    );
    const rest = await driveChain(env, handler, takeHandOffs(env)[0], 2);
    expect(summaryOf(rest.at(-1))).toMatchObject({
      status: 'finished',
      complete: true,
      deleted: finished.length,
    });
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([finished.length]);
  });

  it("resumes a run whose continuation was lost from its hand-off's checkpoint, exactly; the late continuation then stops, touching nothing", async () => {
    // Prepare: a run hands on, and its continuation is lost
    const { all, finished, kept } = population();
    seed(env, all);
    const { handler, log } = createStatefulHandler(env);
    const first = summaryOf(await handler(SCHEDULED_EVENT, pageBudget(env, 2)));
    const [lost] = takeHandOffs(env);
    const deadRun = await leaseHolder();
    expect(first.status).toBe('continuing');
    env.emulator.plane.setNow(new Date(now.getTime() + 21 * MINUTE));

    // Act
    const takeover = await driveChain(env, handler, SCHEDULED_EVENT);
    const callsBeforeLate = calls(env, 'ListSchedules') + calls(env, 'GetSchedule');
    const late = await handler(lost, pageBudget(env));

    // Assess: the same run, carried on from where it handed on (nothing after the hand-off's
    // checkpoint was sent, so nothing is uncertain), metrics once for the whole sweep
    const taken = summaryOf(takeover.at(-1));
    expect(takeover).toHaveLength(1);
    expect(taken).toMatchObject({
      status: 'finished',
      complete: true,
      runId: deadRun,
      deleted: finished.length,
      uncertain: { deleted: 0 },
    });
    expect(taken.pending + taken.recurring + taken.skippedTotal).toBe(kept.length);
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([finished.length]);
    expect(present(all)).toEqual(kept.map(key).sort());
    expect(late).toEqual({ status: 'superseded', runId: deadRun, invocation: 2 });
    expect(calls(env, 'ListSchedules') + calls(env, 'GetSchedule')).toBe(callsBeforeLate);
    expect(takeHandOffs(env)).toEqual([]);
    expect(await leaseHolder()).toBeUndefined();
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/superseded/) }),
    );
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/^resuming a sweep/) }),
    );
  });

  it('ends the sweep when the hand-off fails: publishes what it counted, logs the error, frees the lease', async () => {
    // Prepare
    const { all } = population();
    seed(env, all);
    const { handler, log } = createStatefulHandler(env);
    env.emulator.plane.controls.errorRates = { Invoke: 1 };

    // Act
    const result = summaryOf(await handler(SCHEDULED_EVENT, pageBudget(env, 2)));

    // Assess
    expect(result).toMatchObject({ status: 'finished', complete: false, stoppedBy: 'time', scanned: 200 });
    expect(result).toHaveProperty('handOffError');
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([result.deleted]);
    // A count cut short is never published as the schedule count.
    expect(metricValues(env, 'ScheduleCount')).toEqual([]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: expect.stringMatching(/handing the sweep on failed/),
      }),
    );
    expect(await leaseHolder()).toBeUndefined();
  });

  it('without a state table dry-runs in one invocation, with no lease and no hand-off, and says so (a sweep that deletes is refused)', async () => {
    // Prepare
    const { all } = population();
    seed(env, all);
    const { handler, log } = createStatefulHandler(env, { SWEEP_STATE_TABLE: '' });

    // Act
    const results = await driveChain(env, handler, { dryRun: true }, 2);

    // Assess
    expect(results).toHaveLength(1);
    expect(summaryOf(results[0])).toMatchObject({
      status: 'finished',
      complete: false,
      stoppedBy: 'time',
      scanned: 200,
    });
    expect(await env.emulator.services.dynamodb.itemCount(STATE_TABLE)).toBe(0);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/^no state table/) }),
    );
    await expect(handler(SCHEDULED_EVENT)).rejects.toThrow(/Invalid SWEEP_STATE_TABLE/);
  });
});

describe('continuation payload', () => {
  async function handOff(): Promise<Record<string, Record<string, unknown>>> {
    seed(env, population().all);
    const { handler } = createStatefulHandler(env);
    await handler(SCHEDULED_EVENT, pageBudget(env, 2));
    const [payload] = takeHandOffs(env);
    return payload as Record<string, Record<string, unknown>>;
  }

  it('carries the progress of a group named "__proto__" like any other', async () => {
    // Prepare: the continuation as Lambda delivers it, a JSON document
    const { continuation } = await handOff();
    const progress = { seen: 7, removed: 2, fromFirstPage: true, listed: true, unprocessed: false };
    const text = JSON.stringify({ continuation }).replace(
      '"groups":{',
      `"groups":{"__proto__":${JSON.stringify(progress)},`,
    );

    // Act
    const parsed = parseSweepEvent(JSON.parse(text));

    // Assess
    if (parsed.kind !== 'continuation') throw new Error('expected a continuation');
    expect(Object.keys(parsed.continuation.progress.groups)).toContain('__proto__');
    expect(Object.entries(parsed.continuation.progress.groups)).toContainEqual(['__proto__', progress]);
  });

  it.each([
    [
      'an unknown field',
      (c: Record<string, unknown>) => ({ continuation: { ...c, extra: 1 } }),
      /continuation\.extra/,
    ],
    [
      'a field beside it',
      (c: Record<string, unknown>) => ({ continuation: c, dryRun: false }),
      /sweep payload/,
    ],
    [
      'a negative count',
      (c: Record<string, unknown>) => ({
        continuation: { ...c, counts: { ...(c.counts as object), deleted: -1 } },
      }),
      /continuation\.counts\.deleted/,
    ],
    [
      'invocation 1',
      (c: Record<string, unknown>) => ({ continuation: { ...c, invocation: 1 } }),
      /continuation\.invocation/,
    ],
    [
      'a cursor without groupIndex',
      (c: Record<string, unknown>) => ({ continuation: { ...c, cursor: { nextToken: 'x' } } }),
      /continuation\.cursor\.groupIndex/,
    ],
    [
      'settings that are not a fingerprint',
      (c: Record<string, unknown>) => ({ continuation: { ...c, settings: 'groups=a,b' } }),
      /continuation\.settings/,
    ],
    [
      'a misspelt request field',
      (c: Record<string, unknown>) => ({ continuation: { ...c, request: { dryrun: true } } }),
      /continuation\.request\.dryrun/,
    ],
  ])(
    'rejects a continuation with %s, naming the field, before any AWS call',
    async (_label, damage, field) => {
      // Prepare
      const { continuation } = await handOff();
      const { handler } = createStatefulHandler(env);
      const before = ['ListSchedules', 'GetSchedule', 'DeleteSchedule', 'UpdateItem', 'PutItem'].map((op) =>
        calls(env, op),
      );

      // Act
      const run = handler(damage(continuation as Record<string, unknown>), pageBudget(env));

      // Assess
      await expect(run).rejects.toThrow(field);
      expect(
        ['ListSchedules', 'GetSchedule', 'DeleteSchedule', 'UpdateItem', 'PutItem'].map((op) =>
          calls(env, op),
        ),
      ).toEqual(before);
    },
  );
});
