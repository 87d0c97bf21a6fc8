// The stages of a sweep run's lifecycle, each on its own, without the emulator: the pure decisions
// (src/sweep/lifecycle.ts), the shared lease stages (src/state/lifecycle.ts) and the sweep's end and
// hand-off (src/sweep/run.ts) over an in-memory lease store with the real store's conditions and a
// clock the test sets. The same stages run end to end through the handler in lifecycle.test.ts.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/log.ts';
import { CLOCK_SKEW_BOUND_MS, leaseExpired } from '../../src/state/lease.ts';
import { acquireRun, continueRun, releaseRun, renewForHandOff } from '../../src/state/lifecycle.ts';
import { settingsFingerprint } from '../../src/sweep/checkpoint.ts';
import { emptyTallies, talliesView } from '../../src/sweep/ledger.ts';
import {
  carriedSummary,
  continuationOf,
  continuationVerdict,
  deletesLeft,
  nextStep,
  type Run,
  resumedContinuation,
  startPosition,
} from '../../src/sweep/lifecycle.ts';
import { SweepScope } from '../../src/sweep/metrics.ts';
import type { SweepContinuation } from '../../src/sweep/payload.ts';
import { endSweep, handOn } from '../../src/sweep/run.ts';
import { emptyCounts, StopReason, type SweepSummary } from '../../src/sweep/sweep.ts';
import { createFakeLeaseStore } from '../support/fake-lease.ts';

const MINUTE = 60_000;
const t0 = new Date('2025-06-15T12:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);
const settings = settingsFingerprint({
  groups: ['a', 'b'],
  graceMinutes: 60,
  keepDisabled: false,
  dryRun: false,
});
const otherSettings = settingsFingerprint({
  groups: ['b', 'a'],
  graceMinutes: 60,
  keepDisabled: false,
  dryRun: false,
});

const run: Run = { runId: 'run-1', invocation: 1, startedAt: t0.toISOString(), request: {}, settings };

function carried(overrides: Partial<SweepContinuation> = {}): SweepContinuation {
  return { ...continuationOf(run, startPosition()), ...overrides };
}

function summaryWith(overrides: Partial<SweepSummary> = {}): SweepSummary {
  return {
    ...emptyCounts(),
    deleted: 7,
    skippedTotal: 0,
    uncertain: { deleted: 0 },
    throttled: 0,
    requests: { ListSchedules: 3, GetSchedule: 20, DeleteSchedule: 7, rereads: 0 },
    durationSeconds: 2,
    dryRun: false,
    complete: true,
    scheduleCounts: { byGroup: {} },
    progress: { groups: {}, fromStart: true },
    ...talliesView(emptyTallies()),
    ...overrides,
  };
}

/** The deps of endSweep and handOn: a lease store, a clock the test sets, and what they publish or queue. */
function stageDeps(lease = createFakeLeaseStore()) {
  const published: unknown[] = [];
  const handedOff: unknown[] = [];
  const log = createMemoryLogger();
  const deps = {
    scheduler: {} as SchedulerClient,
    cloudwatch: {
      send: async (command: unknown) => {
        published.push(command);
        return {};
      },
    } as unknown as CloudWatchClient,
    clock: () => at(5),
    log,
    state: { lease, memory: { flush: async () => undefined } as never },
    handOff: async (payload: unknown) => {
      handedOff.push(payload);
    },
  };
  const input = {
    scope: SweepScope.configured,
    options: { namespace: 'Test' } as never,
    leaseMs: 16 * MINUTE,
  };
  return { deps, input, lease, published, handedOff, log };
}

/** A lease store where `run` holds the lease, taken at t0 for 16 minutes. */
async function held() {
  const lease = createFakeLeaseStore();
  const claim = await acquireRun(lease, run.runId, t0, 16 * MINUTE, {
    log: createMemoryLogger(),
    subject: 'sweep',
  });
  if (claim.kind !== 'held') throw new Error('expected the lease');
  return { lease, hold: claim.hold };
}

describe('lease expiry across clocks', () => {
  it(`is judged on the taker's clock with a bound of ${CLOCK_SKEW_BOUND_MS / MINUTE} minutes`, () => {
    expect(leaseExpired(at(16), new Date(at(16).getTime() + CLOCK_SKEW_BOUND_MS))).toBe(false);
    expect(leaseExpired(at(16), new Date(at(16).getTime() + CLOCK_SKEW_BOUND_MS + 1))).toBe(true);
  });

  it('keeps a live holder against a new run whose clock is ahead by up to the bound', async () => {
    const { lease } = await held();

    const skewed = await acquireRun(
      lease,
      'run-2',
      new Date(at(16).getTime() + CLOCK_SKEW_BOUND_MS),
      16 * MINUTE,
      {
        log: createMemoryLogger(),
        subject: 'sweep',
      },
    );

    expect(skewed).toEqual({ kind: 'alreadyRunning', holder: 'run-1', leaseUntil: at(16) });
  });
});

describe('continuing a run', () => {
  it('moves the run on once: a second copy of the same continuation is superseded', async () => {
    const { lease } = await held();

    const first = await continueRun(lease, { runId: 'run-1', invocation: 2 }, at(14), 16 * MINUTE, 'inv-2');
    const copy = await continueRun(lease, { runId: 'run-1', invocation: 2 }, at(14), 16 * MINUTE, 'copy');

    expect(first).toEqual({ kind: 'held', hold: { runId: 'run-1', token: 'inv-2', invocation: 2 } });
    expect(copy).toEqual({ kind: 'superseded' });
  });

  it('goes on only under the settings it was handed on with', () => {
    expect(continuationVerdict(carried(), settings)).toBe('go');
    expect(continuationVerdict(carried(), otherSettings)).toBe(StopReason.settingsChanged);
    const { settings: _dropped, ...handedOnBefore } = carried();
    expect(continuationVerdict(handedOnBefore, settings)).toBe(StopReason.settingsChanged);
  });

  it('hands on the run with its settings, its start and the next invocation number', () => {
    const continuation = continuationOf({ ...run, invocation: 3 }, startPosition());

    expect(continuation).toMatchObject({ runId: 'run-1', invocation: 4, startedAt: run.startedAt, settings });
  });

  it('ends a run that was handed on with the totals it carried, incomplete, stopped for the reason given', () => {
    const from = carried({ counts: { ...emptyCounts(), scanned: 40, deleted: 9 } });

    const summary = carriedSummary(from, StopReason.settingsChanged);

    expect(summary).toMatchObject({ scanned: 40, deleted: 9, complete: false, stoppedBy: 'settingsChanged' });
  });
});

describe('deletions left to an invocation', () => {
  it('counts every delete that may have applied against maxDeletes, and never goes below zero', () => {
    const counts = { ...emptyCounts(), deleted: 10, deleteOutcomeUnknown: 2, deletesUncounted: 64 };

    expect(deletesLeft(100, carried({ counts }))).toBe(24);
    expect(deletesLeft(64, carried({ counts }))).toBe(0);
    expect(deletesLeft(undefined, carried({ counts }))).toBeUndefined();
    expect(deletesLeft(5, undefined)).toBe(5);
  });

  it("adds the killed writer's allowance to a resumed checkpoint, and the policy's when another took the lease over since", () => {
    const checkpoint = { continuation: carried(), allowance: 64 };

    const own = resumedContinuation(
      { token: 'inv-2', checkpoint: { by: 'inv-2' } },
      checkpoint,
      100,
      settings,
    );
    const takenOver = resumedContinuation(
      { token: 'inv-3', checkpoint: { by: 'inv-2' } },
      checkpoint,
      100,
      settings,
    );

    expect(own.continuation.counts.deletesUncounted).toBe(64);
    expect(takenOver.continuation.counts.deletesUncounted).toBe(100);
  });
});

describe('the next step', () => {
  const stopped = { stoppedBy: StopReason.time, cursor: { groupIndex: 1 }, requests: summaryWith().requests };
  const can = { carryOn: true, handOff: true };

  it('hands on only a sweep stopped for time that can go on', () => {
    expect(nextStep(stopped, 1, can)).toEqual({ kind: 'handOn' });
    expect(nextStep({ ...stopped, stoppedBy: StopReason.maxDeletes }, 1, can)).toEqual({ kind: 'end' });
    expect(nextStep({ ...stopped, stoppedBy: undefined }, 1, can)).toEqual({ kind: 'end' });
  });

  it.each([
    ['without a state table', 1, { carryOn: false, handOff: true }, /no state table/],
    ['without a function to hand on to', 1, { carryOn: true, handOff: false }, /no function/],
    ['after the last invocation allowed', 200, { carryOn: true, handOff: true }, /already 200 invocations/],
  ])('ends a sweep stopped for time %s, saying why', (_label, invocation, ability, reason) => {
    expect(nextStep(stopped, invocation, ability)).toEqual({
      kind: 'end',
      blocker: expect.stringMatching(reason),
    });
  });

  it('ends a sweep stopped for time that listed nothing in this invocation', () => {
    const idle = {
      ...stopped,
      requests: { ListSchedules: 0, GetSchedule: 0, DeleteSchedule: 0, rereads: 0 },
    };

    expect(nextStep(idle, 1, can)).toEqual({ kind: 'end', blocker: expect.stringMatching(/no progress/) });
  });
});

describe('the end of a sweep', () => {
  it('marks the sweep ended, publishes once and frees the lease', async () => {
    const { lease, hold } = await held();
    const { deps, input, published } = stageDeps(lease);

    const result = await endSweep(deps, input, run, hold, { seq: 0 }, summaryWith());

    expect(result).toMatchObject({ status: 'finished', runId: 'run-1', deleted: 7 });
    expect(published).toHaveLength(1);
    expect(lease.writes.map((write) => [write.operation, write.applied])).toEqual([
      ['acquire', true],
      ['checkpoint', true],
      ['release', true],
    ]);
    expect(lease.item).toBeUndefined();
  });

  it('publishes nothing for a dry run, and still frees the lease', async () => {
    const { lease, hold } = await held();
    const { deps, input, published } = stageDeps(lease);

    const result = await endSweep(deps, input, run, hold, { seq: 0 }, summaryWith({ dryRun: true }));

    expect(result).toMatchObject({ status: 'finished' });
    expect(published).toEqual([]);
    expect(lease.item).toBeUndefined();
  });

  it('publishes nothing, frees nothing and reports superseded when its end marking is refused', async () => {
    // Prepare: another run took the lease over (its clock was ahead beyond the bound)
    const { lease, hold } = await held();
    await acquireRun(lease, 'run-2', new Date(at(16).getTime() + CLOCK_SKEW_BOUND_MS + 1), 16 * MINUTE, {
      log: createMemoryLogger(),
      subject: 'sweep',
    });
    const { deps, input, published, log } = stageDeps(lease);

    // Act
    const result = await endSweep(deps, input, run, hold, { seq: 0 }, summaryWith());

    // Assess
    expect(result).toEqual({ status: 'superseded', runId: 'run-1', invocation: 1 });
    expect(published).toEqual([]);
    expect(lease.item?.runId).toBe('run-2');
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringMatching(/ended was refused/) }),
    );
  });
});

describe('the hand-off', () => {
  const stoppedForTime = summaryWith({
    complete: false,
    stoppedBy: StopReason.time,
    cursor: { groupIndex: 1 },
  });

  it('renews the lease with the continuation as its checkpoint and queues it, publishing nothing', async () => {
    const { lease, hold } = await held();
    const { deps, input, published, handedOff } = stageDeps(lease);

    const result = await handOn(
      deps,
      input,
      run,
      hold,
      { seq: 0 },
      { ...stoppedForTime, cursor: { groupIndex: 1 } },
    );

    expect(result).toMatchObject({ status: 'continuing', runId: 'run-1', invocation: 1 });
    expect(handedOff).toEqual([{ continuation: expect.objectContaining({ invocation: 2, settings }) }]);
    expect(published).toEqual([]);
    expect(lease.item?.checkpoint?.body).toContain('"cursor":{"groupIndex":1}');
  });

  it('publishes nothing and queues nothing when its renew is refused', async () => {
    const { lease, hold } = await held();
    await releaseRun(lease, hold, { log: createMemoryLogger(), subject: 'sweep' });
    await acquireRun(lease, 'run-2', at(6), 16 * MINUTE, { log: createMemoryLogger(), subject: 'sweep' });
    const { deps, input, published, handedOff } = stageDeps(lease);

    const result = await handOn(
      deps,
      input,
      run,
      hold,
      { seq: 0 },
      { ...stoppedForTime, cursor: { groupIndex: 1 } },
    );

    expect(result).toEqual({ status: 'superseded', runId: 'run-1', invocation: 1 });
    expect(published).toEqual([]);
    expect(handedOff).toEqual([]);
    expect(await renewForHandOff(lease, hold, at(6), MINUTE)).toBe('refused');
  });
});
