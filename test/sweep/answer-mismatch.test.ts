// A GetSchedule answered with another schedule's definition (something between the sweeper and
// Scheduler routing the request elsewhere) must never delete the schedule asked for: the judge keeps it
// as `answerMismatch`, and the gate's re-read counts such an answer as a change. Through the real SDK
// against the emulator, with a front that sends one name's lookups to another name.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/log.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { type Front, startFront } from '../support/front.ts';
import { resetForTombstones, storedTombstones, tombstoneSweepHandler } from '../support/tombstones.ts';
import { oneTime } from './fixtures.ts';

const env = useTestEmulator();
const NOW = new Date('2025-06-15T12:00:00Z');
const STATE_TABLE = 'schedule-hygiene-test-mismatch-state';

beforeEach(() => resetForTombstones(env, STATE_TABLE, NOW));

/** Lookups of live-reminder go to finished-reminder; shared-name's are answered by another account. */
const FROM_ANOTHER_ACCOUNT = 'shared-name';
const OTHER_ACCOUNT = '222222222222';

let front: Front;
beforeAll(async () => {
  front = await startFront(env, {
    redirect: { 'live-reminder': 'finished-reminder' },
    dropListFilters: true,
    otherAccountFor: { [FROM_ANOTHER_ACCOUNT]: OTHER_ACCOUNT },
  });
});
afterAll(() => front.close());

const throughFront = () => front.through;

describe('a GetSchedule answered with another schedule', () => {
  it('keeps the schedule asked for as answerMismatch, untombstoned, and sweeps the others', async () => {
    // Prepare: a live reminder whose lookups the front answers with a finished one's definition
    env.emulator.services.scheduler.seed([
      oneTime({ name: 'live-reminder', at: '2025-07-01T09:00:00' }),
      oneTime({ name: 'finished-reminder', at: '2025-06-01T09:00:00' }),
    ]);
    const log = createMemoryLogger();

    // Act
    const summary = await tombstoneSweepHandler(throughFront(), {
      stateTable: STATE_TABLE,
      namespace: 'MismatchTest',
      log,
    })({});

    // Assess: the emulator's own record; the live schedule stays, and no tombstone holds its name
    expect(env.emulator.services.scheduler.has('default', 'live-reminder')).toBe(true);
    expect(env.emulator.services.scheduler.has('default', 'finished-reminder')).toBe(false);
    expect(summary).toMatchObject({ status: 'finished', deleted: 1, failed: 0 });
    expect((summary as { skipped?: Record<string, number> }).skipped?.answerMismatch).toBe(1);
    expect((await storedTombstones(env)).map((tombstone) => tombstone.name)).toEqual(['finished-reminder']);
    const skipLines = log.lines.filter((line) => line.reason === 'answerMismatch');
    expect(skipLines).toEqual([expect.objectContaining({ name: 'live-reminder', group: 'default' })]);
  });

  it('keeps what a listing answered outside the configured groups and name prefix', async () => {
    // Prepare: finished schedules in and out of scope; the front drops the listing's filters
    env.emulator.services.scheduler.createGroup('orders');
    env.emulator.services.scheduler.createGroup('payments');
    const at = '2025-06-01T09:00:00';
    env.emulator.services.scheduler.seed([
      oneTime({ name: 'reminder-1', group: 'orders', at }),
      oneTime({ name: 'invoice-1', group: 'orders', at }),
      oneTime({ name: 'reminder-2', group: 'payments', at }),
      oneTime({ name: 'reminder-3', at }),
    ]);

    // Act
    const summary = await tombstoneSweepHandler(throughFront(), {
      stateTable: STATE_TABLE,
      namespace: 'MismatchTest',
      log: createMemoryLogger(),
      settings: { SWEEP_GROUPS: 'orders' },
    })({ namePrefix: 'reminder-' });

    // Assess: only orders/reminder-1 was in scope; the emulator's record says the rest stayed
    const present = (group: string, name: string) => env.emulator.services.scheduler.has(group, name);
    expect(present('orders', 'reminder-1')).toBe(false);
    expect([
      present('orders', 'invoice-1'),
      present('payments', 'reminder-2'),
      present('default', 'reminder-3'),
    ]).toEqual([true, true, true]);
    expect(summary).toMatchObject({ status: 'finished', deleted: 1, failed: 0 });
    expect((summary as { skipped?: Record<string, number> }).skipped?.answerMismatch).toBe(3);
  });

  it("keeps a schedule whose lookup answered another account's schedule of the same name", async () => {
    // Prepare: live here, finished in the other account, the same group and name
    env.emulator.services.scheduler.seed([
      oneTime({ name: FROM_ANOTHER_ACCOUNT, at: '2025-07-01T09:00:00' }),
    ]);
    env.emulator.services
      .scope(OTHER_ACCOUNT, 'us-east-1')
      .scheduler.seed([oneTime({ name: FROM_ANOTHER_ACCOUNT, at: '2025-06-01T09:00:00' })]);

    // Act
    const summary = await tombstoneSweepHandler(throughFront(), {
      stateTable: STATE_TABLE,
      namespace: 'MismatchTest',
      log: createMemoryLogger(),
    })({});

    // Assess: the emulator's record; nothing deleted or tombstoned on the other account's answer
    expect(env.emulator.services.scheduler.has('default', FROM_ANOTHER_ACCOUNT)).toBe(true);
    expect(summary).toMatchObject({ status: 'finished', deleted: 0, failed: 0 });
    expect((summary as { skipped?: Record<string, number> }).skipped?.answerMismatch).toBe(1);
    expect(await storedTombstones(env)).toEqual([]);
  });
});
