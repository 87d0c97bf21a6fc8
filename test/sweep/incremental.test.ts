// Incremental sweeps through the real handler against the emulator: a second sweep of an unchanged
// account looks up only what became due, a changed LastModificationDate always forces a fresh
// lookup, and nothing remembered can ever lead to a deletion without a GetSchedule.
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import type { SweepResponse } from '../../src/handlers/sweep.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { key, oneTime } from './fixtures.ts';
import {
  createStatefulHandler,
  driveChain,
  mixedPopulation,
  resetServices,
  SCHEDULED_EVENT,
  STATE_TABLE,
  seed,
} from './resume-support.ts';

const now = new Date('2025-06-15T12:00:00Z');
const DAY = 86_400_000;
const MINUTE = 60_000;

const env = useTestEmulator();

beforeEach(() => resetServices(env, now));

type RunSummary = Extract<SweepResponse, { scanned: number }>;

function summaryOf(result: SweepResponse | undefined): RunSummary {
  if (!result || !('scanned' in result)) throw new Error(`expected a summary, got ${JSON.stringify(result)}`);
  return result;
}

async function sweepOnce(event: unknown = SCHEDULED_EVENT, settings: Record<string, string> = {}) {
  const { faults } = env.emulator.plane;
  faults.configure({ record: true });
  faults.clearRecord();
  const { handler } = createStatefulHandler(env, settings);
  const results = await driveChain(env, handler, event, 2);
  const looked = faults.applied().filter((entry) => entry.operation === 'GetSchedule');
  faults.reset();
  return {
    summary: summaryOf(results.at(-1)),
    /** Schedules looked up (a delete that waited re-reads its schedule: not a second lookup). */
    lookups: new Set(looked.map((entry) => entry.key)).size,
    invocations: results.length,
  };
}

const advance = (ms: number) => env.emulator.plane.setNow(new Date(env.emulator.plane.now().getTime() + ms));

function present(definitions: SeedDefinition[]): string[] {
  return definitions
    .filter((definition) =>
      env.emulator.services.scheduler.has(definition.GroupName ?? 'default', definition.Name!),
    )
    .map(key)
    .sort();
}

describe('incremental sweep', () => {
  it('looks up, on a second sweep of an unchanged account, only the schedules that became due', async () => {
    // Prepare: a first sweep learns the population; two days later some pending ones are finished
    const { all, finished, kept, dueInTwoDays } = mixedPopulation(now, { default: 250, orders: 200 });
    seed(env, all);
    const first = await sweepOnce();
    advance(2 * DAY);

    // Act: carried over several invocations, as a large account's sweep would be
    const second = await sweepOnce();

    // Assess
    expect(first.lookups).toBe(all.length);
    expect(first.summary.deleted).toBe(finished.length);
    expect(second.invocations).toBeGreaterThan(1);
    expect(second.lookups).toBe(dueInTwoDays.length);
    expect(second.summary).toMatchObject({
      scanned: kept.length,
      deleted: dueInTwoDays.length,
      recalled: kept.length - dueInTwoDays.length,
      complete: true,
    });
    expect(present(all)).toEqual(
      kept
        .filter((schedule) => !dueInTwoDays.includes(schedule))
        .map(key)
        .sort(),
    );
  });

  it('counts exactly what a full lookup counts', async () => {
    // Prepare
    const { all } = mixedPopulation(now, { default: 150, orders: 60 });
    seed(env, all);
    await sweepOnce();
    advance(2 * DAY);
    const fromMemory = await sweepOnce({ dryRun: true });

    // Act
    const full = await sweepOnce({ dryRun: true, fullLookup: true });

    // Assess
    const counts = ({ summary }: { summary: RunSummary }) => ({
      scanned: summary.scanned,
      wouldDelete: summary.wouldDelete,
      pending: summary.pending,
      recurring: summary.recurring,
      skipped: summary.skipped,
      scheduleCounts: summary.scheduleCounts,
    });
    expect(fromMemory.summary.recalled).toBeGreaterThan(0);
    expect(full.summary.recalled).toBe(0);
    expect(full.lookups).toBe(full.summary.scanned);
    expect(counts(fromMemory)).toEqual(counts(full));
  });

  it('looks up again a schedule whose LastModificationDate changed, and deletes it when the change finished it', async () => {
    // Prepare: remembered as pending for 30 days, then moved into the past
    const pending = oneTime({
      name: 'moved',
      at: new Date(now.getTime() + 30 * DAY).toISOString().slice(0, 19),
    });
    const untouched = oneTime({
      name: 'untouched',
      at: new Date(now.getTime() + 30 * DAY).toISOString().slice(0, 19),
    });
    seed(env, [pending, untouched]);
    await sweepOnce();
    advance(MINUTE);
    const past = new Date(now.getTime() - 5 * DAY).toISOString().slice(0, 19);
    const { CreationDate: _created, LastModificationDate: _modified, ...definition } = pending;
    await env.scheduler.send(
      new UpdateScheduleCommand({ ...definition, ScheduleExpression: `at(${past})` } as never),
    );

    // Act
    const second = await sweepOnce();

    // Assess
    expect(second.lookups).toBe(1);
    expect(second.summary).toMatchObject({ deleted: 1, recalled: 1, pending: 1 });
    expect(present([pending, untouched])).toEqual([key(untouched)]);
  });

  it('never deletes on the word of memory: a remembered due time that has passed is checked by a lookup', async () => {
    // Prepare: memory wrongly says a schedule due in 30 days was due long ago
    const future = oneTime({
      name: 'future',
      at: new Date(now.getTime() + 30 * DAY).toISOString().slice(0, 19),
    });
    seed(env, [future]);
    await sweepOnce();
    const items = await env.emulator.services.dynamodb.items(STATE_TABLE);
    const remembered = items.find((item) => item.pk?.S?.includes('/future'));
    await env.dynamodb.send(
      new PutItemCommand({ TableName: STATE_TABLE, Item: { ...remembered, due: { N: '0' } } }),
    );

    // Act
    const second = await sweepOnce();

    // Assess
    expect(remembered?.k?.S).toBe('oneTime');
    expect(second.lookups).toBe(1);
    expect(second.summary).toMatchObject({ deleted: 0, pending: 1, recalled: 0 });
    expect(present([future])).toEqual([key(future)]);
  });

  it('with SWEEP_INCREMENTAL=false looks every schedule up and remembers nothing', async () => {
    const { all, kept } = mixedPopulation(now, { default: 120 });
    seed(env, all);
    const settings = { SWEEP_INCREMENTAL: 'false' };
    await sweepOnce(SCHEDULED_EVENT, settings);

    const second = await sweepOnce(SCHEDULED_EVENT, settings);

    expect(second.lookups).toBe(kept.length);
    expect(second.summary.recalled).toBe(0);
    expect(await env.emulator.services.dynamodb.itemCount(STATE_TABLE)).toBe(0);
  });
});
