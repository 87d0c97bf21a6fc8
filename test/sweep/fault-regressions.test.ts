// Regressions from the fault review of the sweep's lease and exits, through the real handler, the real
// SDK clients (the DynamoDB client with the SDK's default retries, as deployed) and the emulator. Each
// fault strikes after the request took effect, or is a hard error; every test checks what was
// published, whether the lease is free, and what was logged.
import { UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultConfig } from '../../scripts/emulator/faults.ts';
import { createDynamoDbClient, createSchedulerClient } from '../../src/aws/clients.ts';
import type { SweepResponse } from '../../src/handlers/sweep.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { LEASE_KEY } from '../../src/state/lease.ts';
import { type SweepOptions, sweep } from '../../src/sweep/sweep.ts';
import { REAL_ELAPSED, useTestEmulator } from '../support/emulator.ts';
import { loseAnswers, onItem } from '../support/lost-answers.ts';
import { tombstoneStore } from '../support/tombstones.ts';
import { oneTime, sweepOptions } from './fixtures.ts';
import {
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
const env = useTestEmulator();

beforeEach(() => resetServices(env, now));

const population = () => mixedPopulation(now, { default: 250, orders: 200 });
/** Every request's first answer lost: occurrences 1, 3, 5, … (each retry is the next occurrence). */
const everyFirstAnswer = Array.from({ length: 50 }, (_, index) => 2 * index + 1);

/** The sweep core with the tombstone store and the default budget tuning (real backoffs). */
async function sweepWithDefaultBudgets() {
  const log = createMemoryLogger();
  const summary = await sweep(
    {
      scheduler: env.scheduler,
      cloudwatch: env.cloudwatch,
      clock: () => env.emulator.plane.now(),
      log,
      tombstones: tombstoneStore(env),
    },
    sweepOptions({ budgetTuning: undefined }),
  );
  return { log, summary };
}

async function leaseItem() {
  return (await env.emulator.services.dynamodb.items(STATE_TABLE)).find((item) => item.pk?.S === LEASE_KEY);
}

function summaryOf(result: SweepResponse | undefined) {
  if (!result || !('scanned' in result)) throw new Error(`expected a summary, got ${JSON.stringify(result)}`);
  return result;
}

/**
 * Finished schedules a sweep on the real clock kept because their delete could not leave within
 * 100 ms of their read (a machine too busy for the re-read window): counted, never deleted. These
 * tests run on the real clock, so a loaded machine may keep some; every other finished schedule
 * must be deleted.
 */
const keptAtDeparture = (summary: ReturnType<typeof summaryOf>) => summary.skipped.staleAtDeparture ?? 0;

/**
 * Every finished schedule deleted or kept at departure, at least one deleted (a busy machine keeps
 * some, as many as its load makes late; a gate that kept them all would otherwise pass, and these
 * tests are of the lease, not of the gate's pace), the kept ones still there (and of the deletes
 * whose outcome is unknown, `uncertain`, any), and every live schedule still there.
 */
function expectFinishedDeletedOrKept(
  summary: ReturnType<typeof summaryOf>,
  { finished, kept }: Pick<ReturnType<typeof population>, 'finished' | 'kept'>,
  uncertain = 0,
) {
  expect(summary.deleted + uncertain + keptAtDeparture(summary)).toBe(finished.length);
  expect(summary.deleted).toBeGreaterThan(0);
  expect(stillThere(finished)).toBeGreaterThanOrEqual(keptAtDeparture(summary));
  expect(stillThere(finished)).toBeLessThanOrEqual(keptAtDeparture(summary) + uncertain);
  expect(stillThere(kept)).toBe(kept.length);
}

/** The schedules of the list still in the emulator. */
const stillThere = (finished: ReturnType<typeof population>['finished']) =>
  finished.filter((schedule) =>
    env.emulator.services.scheduler.has(schedule.GroupName ?? 'default', schedule.Name!),
  ).length;

describe('sweep lease and exits under faults', () => {
  it('regression: a renew whose answer was lost is retried by the SDK and recognised; the chain sweeps on, published once, lease freed', async () => {
    // Prepare: every lease renew (hand-off and continuation fence) loses its first answer
    const { all, finished, kept } = population();
    seed(env, all);
    const dynamodb = createDynamoDbClient(env.clientOptions);
    const faults = loseAnswers(dynamodb, [
      { command: 'UpdateItemCommand', occurrences: everyFirstAnswer, when: onItem(LEASE_KEY) },
    ]);
    const { handler } = createStatefulHandler(env, {}, { dynamodb }, { elapsed: REAL_ELAPSED });

    // Act
    const results = await driveChain(env, handler, SCHEDULED_EVENT, 2);

    // Assess
    expect(faults.lost()).toBeGreaterThanOrEqual(4);
    expect(results.map((result) => result.status)).not.toContain('superseded');
    const last = summaryOf(results.at(-1));
    expect(last).toMatchObject({ status: 'finished', complete: true });
    expectFinishedDeletedOrKept(last, { finished, kept });
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([last.deleted]);
    expect(await leaseItem()).toBeUndefined();
  });

  it('regression: the first acquire whose answer was lost sweeps, instead of reporting alreadyRunning with itself as holder', async () => {
    // Prepare
    const { all, finished, kept } = population();
    seed(env, all);
    const dynamodb = createDynamoDbClient(env.clientOptions);
    const faults = loseAnswers(dynamodb, [
      { command: 'PutItemCommand', occurrences: [1], when: onItem(LEASE_KEY) },
    ]);
    const { handler } = createStatefulHandler(env, {}, { dynamodb }, { elapsed: REAL_ELAPSED });

    // Act
    const results = await driveChain(env, handler, SCHEDULED_EVENT);

    // Assess
    expect(faults.lost()).toBe(1);
    const summary = summaryOf(results[0]);
    expect(summary).toMatchObject({ status: 'finished', complete: true });
    expectFinishedDeletedOrKept(summary, { finished, kept });
    expect(await leaseItem()).toBeUndefined();
  });

  it('regression: a hard DynamoDB error on the renew before the hand-off publishes what was counted, frees the lease and logs why', async () => {
    // Prepare: every UpdateItem answers 500, the SDK's retries included
    const { all } = population();
    seed(env, all);
    env.emulator.plane.controls.errorRates = { UpdateItem: 1 };
    const { handler, log } = createStatefulHandler(env, {}, {}, { elapsed: REAL_ELAPSED });

    // Act
    const result = summaryOf(await handler(SCHEDULED_EVENT, pageBudget(env, 2)));

    // Assess
    expect(result).toMatchObject({ status: 'finished', complete: false, handOffError: expect.any(String) });
    expect(result.deleted).toBeGreaterThan(0);
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([result.deleted]);
    expect(metricValues(env, 'SweepsCompleted')).toEqual([0]);
    expect(takeHandOffs(env)).toEqual([]);
    expect(await leaseItem()).toBeUndefined();
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'renewing the sweep lease before its hand-off failed; the sweep ends here',
      }),
    );
  });

  it("a hard DynamoDB error on a continuation's first renew publishes the totals carried so far, frees the lease and logs why", async () => {
    // Prepare: the first invocation hands on; then DynamoDB refuses every UpdateItem
    const { all } = population();
    seed(env, all);
    const { handler, log } = createStatefulHandler(env, {}, {}, { elapsed: REAL_ELAPSED });
    const first = summaryOf(await handler(SCHEDULED_EVENT, pageBudget(env, 2)));
    const [continuation] = takeHandOffs(env);
    env.emulator.plane.controls.errorRates = { UpdateItem: 1 };

    // Act
    const result = summaryOf(await handler(continuation, pageBudget(env, 2)));

    // Assess
    expect(first.status).toBe('continuing');
    expect(result).toMatchObject({ status: 'finished', complete: false, deleted: first.deleted });
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([first.deleted]);
    expect(await leaseItem()).toBeUndefined();
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: 'renewing the sweep lease failed; the sweep ends here with the totals carried so far',
      }),
    );
  });
});

describe('sweep deletes under faults and concurrent changes (default recheck and backoff)', () => {
  const emulator = () => env.emulator;

  function sweepDeps(log = createMemoryLogger()) {
    return {
      scheduler: env.scheduler,
      cloudwatch: env.cloudwatch,
      clock: () => emulator().plane.now(),
      log,
      tombstones: tombstoneStore(env),
    };
  }

  /** Default settings for every safety mechanism; only the rate budgets are the test's own. */
  const defaults = (overrides: Partial<SweepOptions> = {}) =>
    sweepOptions({ budgetTuning: undefined, ...overrides });

  function finishedSchedules(count: number, prefix = 'f') {
    return Array.from({ length: count }, (_, index) =>
      oneTime({ name: `${prefix}-${String(index).padStart(3, '0')}`, at: '2025-06-01T00:00:00' }),
    );
  }

  function recordFaults(config: FaultConfig = {}) {
    emulator().plane.faults.configure({ record: true, ...config });
    emulator().plane.faults.clearRecord();
  }

  afterEach(() => emulator().plane.faults.reset());

  it('regression: an application updates a finished schedule ~0.5 s after the lookup while its delete waits for its budget; the delete re-reads and leaves it alone', async () => {
    // Prepare: two finished schedules, one delete a second: the second delete waits about 1 s
    const finished = finishedSchedules(2);
    seed(env, finished);
    const application = createSchedulerClient(env.clientOptions);
    const updated: string[] = [];
    const update = setTimeout(() => {
      for (const schedule of finished) {
        application
          .send(
            new UpdateScheduleCommand({
              ...schedule,
              ScheduleExpression: 'at(2025-07-01T00:00:00)',
            } as never),
          )
          .then(() => updated.push(schedule.Name!))
          .catch(() => undefined); // the first one is already deleted
      }
    }, 500);

    // Act
    const summary = await sweep(sweepDeps(), defaults({ budgets: { list: 1000, get: 1000, delete: 1 } }));
    clearTimeout(update);

    // Assess: exactly the updated one is kept, with its new definition
    expect(updated).toHaveLength(1);
    expect(summary).toMatchObject({ deleted: 1, failed: 0 });
    expect(summary.skipped.changedDuringSweep).toBe(1);
    expect(summary.requests.DeleteSchedule).toBe(1);
    const kept = emulator().services.scheduler.get('default', updated[0]!);
    expect(kept?.ScheduleExpression).toBe('at(2025-07-01T00:00:00)');
  });

  it('sends every delete within 100 ms of the last read of its schedule plus one request, with the delete budget saturated', async () => {
    // Prepare: 12 finished schedules at 4 deletes a second: most deletes wait for their slot
    const finished = finishedSchedules(12);
    seed(env, finished);
    recordFaults();

    // Act
    const summary = await sweep(sweepDeps(), defaults({ budgets: { list: 1000, get: 1000, delete: 4 } }));

    // Assess
    const record = emulator().plane.faults.applied();
    const gaps = record
      .filter((entry) => entry.operation === 'DeleteSchedule')
      .map((deletion) => {
        const readKey = deletion.key.replace(/^DELETE /, 'GET ');
        const lastRead = record
          .filter(
            (entry) => entry.operation === 'GetSchedule' && entry.key === readKey && entry.seq < deletion.seq,
          )
          .at(-1);
        return deletion.at - (lastRead?.at ?? Number.NEGATIVE_INFINITY);
      });
    expect(summary.deleted).toBe(12);
    expect(gaps).toHaveLength(12);
    // 100 ms, plus the re-read's answer and the delete's request on a shared, loaded machine.
    expect(Math.max(...gaps)).toBeLessThan(100 + 150);
    // The budget made deletes wait up to ~3 s: those re-read first.
    expect(summary.requests.GetSchedule).toBeGreaterThan(12);
  });

  it('regression: a DeleteSchedule that applied but answered after the 10 s client timeout counts as deleted, and only attempts sent are counted', async () => {
    // Prepare: the real client timeout (10 s); the answer comes at 11 s
    const [schedule] = finishedSchedules(1);
    seed(env, [schedule!]);
    recordFaults({ rules: [{ kind: 'late', service: 'scheduler', operation: 'DeleteSchedule', times: 1 }] });
    const log = createMemoryLogger();

    // Act
    const summary = await sweep(sweepDeps(log), defaults());

    // Assess
    expect(summary).toMatchObject({ deleted: 1, alreadyGone: 0, failed: 0, finished: 1 });
    expect(summary.requests.DeleteSchedule).toBe(emulator().plane.stats.get('DeleteSchedule')?.calls);
    // The attempt answered late, and the replay of its ClientToken that confirms it applied (the
    // re-read before it found the schedule gone).
    expect(summary.requests.DeleteSchedule).toBe(2);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ message: 'tombstone outcome', outcome: 'deleted' }),
    );
  }, 90_000);

  it.each([
    ['the connection reset after the delete applied', 'reset'],
    ['a 5xx returned after the delete applied', 'error-after'],
  ] as const)(
    'regression: counts as deleted a DeleteSchedule whose answer was lost: %s',
    async (_label, kind) => {
      // Prepare
      const finished = finishedSchedules(3);
      seed(env, finished);
      recordFaults({ rules: [{ kind, service: 'scheduler', operation: 'DeleteSchedule', times: 2 }] });

      // Act
      const summary = await sweep(sweepDeps(), defaults());

      // Assess
      expect(summary).toMatchObject({ deleted: 3, alreadyGone: 0, failed: 0 });
      expect(summary.requests.DeleteSchedule).toBe(emulator().plane.stats.get('DeleteSchedule')?.calls);
      expect(emulator().services.scheduler.deletedNames()).toHaveLength(3);
    },
  );
});

describe('sweep totals that cannot be settled say so', () => {
  afterEach(() => env.emulator.plane.faults.reset());

  it('counts a delete found gone after its lost answer as deleted but unconfirmed when no replay of its ClientToken is answered, and its tombstone says unknown', async () => {
    // Prepare: every answer to DeleteSchedule is lost; the first attempt applies
    seed(env, [oneTime({ name: 'unanswered', at: '2025-06-01T00:00:00' })]);
    env.emulator.plane.faults.configure({
      record: true,
      rules: [{ kind: 'reset', service: 'scheduler', operation: 'DeleteSchedule' }],
    });

    // Act
    const { log, summary } = await sweepWithDefaultBudgets();

    // Assess
    expect(env.emulator.services.scheduler.deletedNames()).toEqual(['default/unanswered']);
    expect(summary).toMatchObject({
      deleted: 1,
      deletedUnconfirmed: 1,
      failed: 0,
      uncertain: { deleted: 1 },
    });
    expect(
      log.lines.filter((line) => line.message === 'tombstone outcome').map((line) => line.outcome),
    ).toEqual(['unknown']);
  }, 90_000);

  it('regression (fault seed 23): a delete whose answer was lost, for a schedule an application deleted meanwhile, is not claimed: the replay of its ClientToken answers 404, so it counts alreadyGone and its tombstone says unknown', async () => {
    // Prepare: the application deletes the schedule right after our lookup; our delete's 404 is lost
    const schedule = oneTime({ name: 'raced', at: '2025-06-01T00:00:00' });
    seed(env, [schedule]);
    env.emulator.plane.faults.configure({
      record: true,
      application: [
        { action: 'delete', service: 'scheduler', operation: 'GetSchedule', when: 'after', times: 1 },
      ],
      rules: [{ kind: 'reset', service: 'scheduler', operation: 'DeleteSchedule', times: 1 }],
    });

    // Act
    const { log, summary } = await sweepWithDefaultBudgets();

    // Assess
    const deletesApplied = env.emulator.plane.faults
      .applied()
      .filter((entry) => entry.actor === 'client' && entry.operation === 'DeleteSchedule' && entry.applied);
    expect(deletesApplied).toHaveLength(0);
    expect(summary).toMatchObject({
      deleted: 0,
      deletedUnconfirmed: 0,
      alreadyGone: 1,
      uncertain: { deleted: 0 },
    });
    expect(
      log.lines.filter((line) => line.message === 'tombstone outcome').map((line) => line.outcome),
    ).toEqual(['unknown']);
  });
});

describe('the Lambda deadline is a hard bound', () => {
  afterEach(() => env.emulator.plane.faults.reset());

  it('regression: with a 12 s latency spike on lookups, the invocation hands on before its 15 s deadline, counting nothing twice', async () => {
    // Prepare: a 15 s invocation with the test stack's 5 s margin; a third of lookups take 12 s
    const { all, finished, kept } = population();
    seed(env, all);
    env.emulator.plane.faults.configure({
      seed: 8,
      rules: [
        {
          kind: 'latency',
          service: 'scheduler',
          operation: 'GetSchedule',
          delayMs: 12_000,
          probability: 0.3,
        },
      ],
    });
    const { handler, log } = createStatefulHandler(env, {}, {}, { elapsed: REAL_ELAPSED });
    const started = Date.now();
    const context = {
      functionName: 'schedule-hygiene-test-sweep',
      getRemainingTimeInMillis: () => started + 15_000 - Date.now(),
    };

    // Act
    const first = summaryOf(await handler(SCHEDULED_EVENT, context));
    const returnedAfterMs = Date.now() - started;
    env.emulator.plane.faults.reset();
    const rest = await driveChain(env, handler, takeHandOffs(env)[0]);

    // Assess: returned in time, handed on, and the whole sweep's totals are exact
    expect(returnedAfterMs).toBeLessThan(15_000);
    expect(first).toMatchObject({ status: 'continuing', stoppedBy: 'time' });
    expect(first.scanned).toBeLessThan(all.length);
    const last = summaryOf(rest.at(-1));
    expect(last).toMatchObject({ status: 'finished', complete: true, scanned: all.length });
    expect(last.pending + last.recurring + last.skippedTotal - keptAtDeparture(last)).toBe(kept.length);
    // A delete cut off after it was handed to the client counts as failed with an unknown outcome:
    // the only uncertainty, and the summary says how much.
    expect(last.failed).toBe(last.deleteOutcomeUnknown);
    expectFinishedDeletedOrKept(last, { finished, kept }, last.deleteOutcomeUnknown);
    expect(last.uncertain.deleted).toBe(last.deleteOutcomeUnknown);
    const reallyDeleted = finished.filter(
      (schedule) => !env.emulator.services.scheduler.has(schedule.GroupName ?? 'default', schedule.Name!),
    ).length;
    expect(reallyDeleted).toBeGreaterThanOrEqual(last.deleted);
    expect(reallyDeleted).toBeLessThanOrEqual(last.deleted + last.uncertain.deleted);
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([last.deleted]);
    expect(await leaseItem()).toBeUndefined();
    expect(log.lines.map((line) => line.message)).toContain(
      'the deadline is near: requests in flight are aborted, unfinished schedules left for the continuation',
    );
  }, 90_000);
});
