// A DeleteSchedule answered with ConflictException (409, which AWS documents for DeleteSchedule and
// the SDK does not retry): the sweep keeps the schedule, counts the failure and sweeps on; a later
// sweep deletes it once the conflict has cleared. Default sweep settings, real SDK, emulator.
import { beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/log.ts';
import { sweep } from '../../src/sweep/sweep.ts';
import { HELD_ELAPSED, useTestEmulator } from '../support/emulator.ts';
import { createTombstoneTable, storedTombstones, tombstoneStore } from '../support/tombstones.ts';
import { oneTime, sweepOptions } from './fixtures.ts';

const env = useTestEmulator();

beforeEach(async () => {
  await env.emulator.services.dynamodb.reset();
  await createTombstoneTable(env);
  env.emulator.services.scheduler.reset();
  env.emulator.plane.resetStats();
  env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
});

const sweepNow = () =>
  sweep(
    {
      scheduler: env.scheduler,
      cloudwatch: env.cloudwatch,
      clock: () => env.emulator.plane.now(),
      log: createMemoryLogger(),
      tombstones: tombstoneStore(env),
      elapsed: HELD_ELAPSED,
    },
    sweepOptions(),
  );

describe('a delete answered with ConflictException', () => {
  it('keeps the schedule and counts it failed; the next sweep deletes it once the conflict clears', async () => {
    // Prepare
    const scheduler = env.emulator.services.scheduler;
    scheduler.seed(['first', 'busy', 'last'].map((name) => oneTime({ name, at: '2025-06-01T00:00:00' })));
    scheduler.holdConflicts('default', 'busy', 5);

    // Act
    const first = await sweepNow();

    // Assess
    expect(first).toMatchObject({ deleted: 2, failed: 1 });
    // 409 is not retried: one DeleteSchedule per schedule.
    expect(first.requests.DeleteSchedule).toBe(3);
    expect(scheduler.has('default', 'busy')).toBe(true);
    expect(scheduler.has('default', 'first')).toBe(false);
    // The 409 was delivered: settled as not deleted, so failed but not uncertain.
    expect(first).toMatchObject({ deleteOutcomeUnknown: 0, uncertain: { deleted: 0 } });
    expect((await storedTombstones(env)).find((item) => item.name === 'busy')?.outcome).toBe('refused');

    // Act: the conflict clears
    scheduler.holdConflicts('default', 'busy', 1);
    const stillBusy = await sweepNow();
    const second = await sweepNow();

    // Assess
    expect(stillBusy).toMatchObject({ deleted: 0, failed: 1 });
    expect(second).toMatchObject({ deleted: 1, failed: 0 });
    expect(scheduler.count()).toBe(0);
  });

  it('leaves the outcome unknown when an earlier attempt of the same delete was answered with a 5xx', async () => {
    // Prepare: the first attempt is answered 500 (it could have applied, as far as the sweep knows),
    // the retry with the same ClientToken is refused with 409.
    const scheduler = env.emulator.services.scheduler;
    scheduler.seed([oneTime({ name: 'busy', at: '2025-06-01T00:00:00' })]);
    scheduler.holdConflicts('default', 'busy', 5);
    env.emulator.plane.faults.configure({
      rules: [{ kind: 'error', operation: 'DeleteSchedule', times: 1 }],
    });

    // Act
    const result = await sweepNow();
    env.emulator.plane.faults.reset();

    // Assess
    expect(result).toMatchObject({
      deleted: 0,
      failed: 1,
      deleteOutcomeUnknown: 1,
      uncertain: { deleted: 1 },
    });
    expect(result.requests.DeleteSchedule).toBe(2);
    expect((await storedTombstones(env)).find((item) => item.name === 'busy')?.outcome).toBe('unknown');
    expect(scheduler.has('default', 'busy')).toBe(true);
  });
});
