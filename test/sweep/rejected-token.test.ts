// A NextToken the service refuses (expired or invalid) restarts that listing from its first page,
// mid-run or when carried into a continuation, and counts nothing twice: through the real SDK
// against the emulator, whose fault layer refuses tokens (`reject-token`).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../scripts/emulator/faults.ts';
import type { SweepResponse } from '../../src/handlers/sweep.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { MAX_LISTING_RESTARTS, type SweepSummary, sweep } from '../../src/sweep/sweep.ts';
import { HELD_ELAPSED, useTestEmulator } from '../support/emulator.ts';
import { tombstoneStore } from '../support/tombstones.ts';
import { sweepOptions } from './fixtures.ts';
import {
  calls,
  createStatefulHandler,
  driveChain,
  metricValues,
  mixedPopulation,
  pageBudget,
  resetServices,
  SCHEDULED_EVENT,
  seed,
  takeHandOffs,
} from './resume-support.ts';

const now = new Date('2025-06-15T12:00:00Z');
const env = useTestEmulator();
const RESTART_WARNING = 'ListSchedules refused the NextToken; the listing starts over from its first page';

beforeEach(() => resetServices(env, now));
afterEach(() => env.emulator.plane.faults.configure({}));

/** Refuses the ListSchedules request carrying a NextToken after `skip` such requests went through. */
const rejectToken = (skip: number, times?: number): FaultRule => ({
  kind: 'reject-token',
  service: 'scheduler',
  operation: 'ListSchedules',
  skip,
  ...(times === undefined ? {} : { times }),
});

/**
 * Everything a summary counts, without requests, timings and the run's identity. `recalled` is left
 * out too: schedules listed again are answered from the memory of their first lookup.
 */
function totals(summary: SweepResponse | SweepSummary | undefined) {
  if (!summary || !('scanned' in summary))
    throw new Error(`expected a summary, got ${JSON.stringify(summary)}`);
  const {
    requests: _requests,
    durationSeconds: _duration,
    throttled: _throttled,
    cursor: _cursor,
    progress: _progress,
    recalled: _recalled,
    runId: _runId,
    invocation: _invocation,
    ...counted
  } = summary as SweepSummary & { runId?: string; invocation?: number };
  return counted;
}

const population = () => mixedPopulation(now, { default: 250, orders: 200 });

function remainingNames(): number {
  const { scheduler } = env.emulator.services;
  return population().all.filter((item) => scheduler.has(item.GroupName ?? 'default', item.Name ?? ''))
    .length;
}

async function directSweep(groups: string[], dryRun = false) {
  const log = createMemoryLogger();
  const deps = {
    scheduler: env.scheduler,
    cloudwatch: env.cloudwatch,
    clock: () => env.emulator.plane.now(),
    elapsed: HELD_ELAPSED,
    log,
    tombstones: tombstoneStore(env),
  };
  const summary = await sweep(deps, sweepOptions({ groups, dryRun }));
  return { summary, log };
}

describe('a NextToken the service refuses', () => {
  for (const [label, groups, skip] of [
    ['in a named group (the second page of default)', ['default', 'orders'], 0],
    ['in a named group (the second page of orders)', ['default', 'orders'], 2],
    ['when every group is listed at once (the third page)', [], 1],
  ] as const) {
    it(`restarts the listing ${label}: complete, totals equal an uninterrupted sweep, exactly the finished deleted`, async () => {
      // Prepare: the same population swept without faults
      const { all, finished } = population();
      seed(env, all);
      const { summary: uninterrupted } = await directSweep([...groups]);
      await resetServices(env, now);
      seed(env, all);
      env.emulator.plane.faults.configure({ rules: [rejectToken(skip, 1)] });

      // Act
      const { summary, log } = await directSweep([...groups]);

      // Assess
      expect(log.lines.filter((line) => line.message === RESTART_WARNING)).toHaveLength(1);
      expect(summary.complete).toBe(true);
      expect(totals(summary)).toEqual(totals(uninterrupted));
      expect(summary).toMatchObject({ scanned: all.length, deleted: finished.length });
      expect(summary.requests.ListSchedules).toBeGreaterThan(uninterrupted.requests.ListSchedules);
      expect([...env.emulator.services.scheduler.deletedNames()].sort()).toEqual(
        finished.map((item) => `${item.GroupName}/${item.Name}`).sort(),
      );
      expect(remainingNames()).toBe(all.length - finished.length);
    });
  }

  for (const dryRun of [false, true]) {
    it(`restarts a continuation whose carried NextToken is refused${dryRun ? ' (dry run)' : ''}: the chain's totals are exact, published once`, async () => {
      // Prepare: the same population swept by a chain that is not interrupted
      const { all, finished } = population();
      const event = dryRun ? { dryRun: true } : SCHEDULED_EVENT;
      seed(env, all);
      const baseline = await driveChain(env, createStatefulHandler(env).handler, event, 2);
      const expected = totals(baseline.at(-1));
      await resetServices(env, now);
      seed(env, all);
      const { handler, log } = createStatefulHandler(env);
      // Two pages per invocation: the first hands on the token of the page after them.
      const first = await handler(event, pageBudget(env, 2));
      const [continuation] = takeHandOffs(env);

      // Act: the next token-carrying request is the continuation's carried token, refused
      env.emulator.plane.faults.configure({ rules: [rejectToken(0, 1)] });
      const results = [first, ...(await driveChain(env, handler, continuation, 2))];

      // Assess
      expect(log.lines.filter((line) => line.message === RESTART_WARNING)).toHaveLength(1);
      expect(results.length).toBeGreaterThan(1);
      const last = results.at(-1);
      expect(last).toMatchObject({ status: 'finished', complete: true });
      expect(totals(last)).toEqual(expected);
      expect(totals(last)).toMatchObject(
        dryRun
          ? { scanned: all.length, deleted: 0, wouldDelete: finished.length }
          : { scanned: all.length, deleted: finished.length },
      );
      expect(env.emulator.services.scheduler.deletedNames()).toHaveLength(dryRun ? 0 : finished.length);
      // Published once at the end; a dry run publishes no metric at all.
      expect(metricValues(env, 'FinishedSchedulesFound')).toEqual(dryRun ? [] : [finished.length]);
    });
  }

  it(`restarts a listing at most ${MAX_LISTING_RESTARTS} times, then fails the sweep with what it counted, exact`, async () => {
    // Prepare: every token refused
    const { all } = population();
    seed(env, all);
    env.emulator.plane.faults.configure({ rules: [rejectToken(0)] });
    const log = createMemoryLogger();
    const reported: SweepSummary[] = [];
    const deps = {
      scheduler: env.scheduler,
      cloudwatch: env.cloudwatch,
      clock: () => env.emulator.plane.now(),
      elapsed: HELD_ELAPSED,
      log,
      tombstones: tombstoneStore(env),
    };

    // Act
    const run = sweep(
      deps,
      sweepOptions({ groups: ['default'], report: async (summary) => void reported.push(summary) }),
    );

    // Assess
    await expect(run).rejects.toMatchObject({ name: 'ValidationException' });
    expect(log.lines.filter((line) => line.message === RESTART_WARNING)).toHaveLength(MAX_LISTING_RESTARTS);
    // Each listing: its first page, and the second refused.
    expect(calls(env, 'ListSchedules')).toBe(2 * (MAX_LISTING_RESTARTS + 1));
    expect(reported).toHaveLength(1);
    const [summary] = reported;
    const gone = all.length - remainingNames();
    // What was deleted stays counted; what was kept is counted once, from the last listing's first page.
    expect(summary).toMatchObject({ complete: false, stoppedBy: 'error', deleted: gone });
    expect(summary!.scanned - summary!.deleted).toBeLessThanOrEqual(100);
    expect(summary!.scanned - summary!.deleted).toBe(
      summary!.pending + summary!.recurring + summary!.skippedTotal + summary!.failed,
    );
    expect(summary!.progress.groups.default).toMatchObject({ seen: summary!.scanned, removed: gone });
  });
});
