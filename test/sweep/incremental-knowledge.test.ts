// What the memory layer may answer and what it learns, against an in-memory stand-in for the table:
// only "not due" answers, grace applied at recall, nothing option-dependent remembered.
import type { ScheduleSummary } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/log.ts';
import type { Remembered, ScheduleMemory } from '../../src/state/memory.ts';
import { createIncrementalKnowledge, type IncrementalSettings } from '../../src/sweep/incremental.ts';

const now = new Date('2025-06-15T12:00:00Z');
const HOUR = 3_600_000;
const lastModified = new Date('2025-06-01T00:00:00Z');

function fakeMemory(entries: Record<string, Remembered> = {}) {
  const stored = new Map(Object.entries(entries));
  const forgotten: string[] = [];
  const memory: ScheduleMemory = {
    stats: { reads: 0, writes: 0, requests: 0 },
    async recall(keys) {
      return new Map(
        keys.flatMap(({ arn, lastModified: at }) => {
          const entry = stored.get(arn);
          return entry && entry.lastModified === at ? [[arn, entry] as const] : [];
        }),
      );
    },
    async remember(arn, knowledge) {
      stored.set(arn, knowledge);
    },
    async forget(arn) {
      stored.delete(arn);
      forgotten.push(arn);
    },
    async flush() {},
  };
  return { memory, stored, forgotten };
}

function knowledge(memory: ScheduleMemory, overrides: Partial<IncrementalSettings> = {}) {
  return createIncrementalKnowledge(memory, {
    clock: () => now,
    log: createMemoryLogger(),
    graceMs: HOUR,
    keepDisabled: false,
    recall: true,
    ...overrides,
  });
}

const summary = (name: string, state: 'ENABLED' | 'DISABLED' = 'ENABLED'): ScheduleSummary => ({
  Arn: `arn:aws:scheduler:us-east-1:123456789012:schedule/default/${name}`,
  Name: name,
  GroupName: 'default',
  State: state,
  LastModificationDate: lastModified,
});
const arnOf = (name: string) => summary(name).Arn as string;
const at = lastModified.getTime();

describe('incremental knowledge', () => {
  it('answers pending only until the remembered due time plus this run’s grace', async () => {
    // Prepare: due 30 minutes ago; with one hour of grace it is pending for another 30 minutes
    const { memory } = fakeMemory({
      [arnOf('soon')]: {
        kind: 'oneTime',
        lastModified: at,
        dueAt: now.getTime() - HOUR / 2,
        disabled: false,
      },
    });

    // Act
    const withGrace = await knowledge(memory).recall([summary('soon')]);
    const withoutGrace = await knowledge(memory, { graceMs: 0 }).recall([summary('soon')]);

    // Assess
    expect(withGrace.get(arnOf('soon'))).toEqual({
      kind: 'pending',
      finishedAt: new Date(now.getTime() + HOUR / 2),
    });
    expect(withoutGrace.size).toBe(0);
  });

  it('answers recurring and known skip reasons, and distrusts reasons it does not know', async () => {
    const { memory } = fakeMemory({
      [arnOf('rate')]: { kind: 'recurring', lastModified: at },
      [arnOf('mars')]: { kind: 'skipped', lastModified: at, reason: 'unknownTimezone' },
      [arnOf('odd')]: { kind: 'skipped', lastModified: at, reason: 'reasonFromTheFuture' },
    });

    const answers = await knowledge(memory).recall([summary('rate'), summary('mars'), summary('odd')]);

    expect(Object.fromEntries(answers)).toEqual({
      [arnOf('rate')]: { kind: 'recurring' },
      [arnOf('mars')]: { kind: 'skipped', reason: 'unknownTimezone' },
    });
  });

  it('leaves a disabled one-time schedule to a lookup when the run keeps disabled schedules', async () => {
    const { memory } = fakeMemory({
      [arnOf('off')]: { kind: 'oneTime', lastModified: at, dueAt: now.getTime() + 24 * HOUR, disabled: true },
    });

    const keeping = await knowledge(memory, { keepDisabled: true }).recall([summary('off', 'DISABLED')]);
    const notKeeping = await knowledge(memory).recall([summary('off', 'DISABLED')]);

    expect(keeping.size).toBe(0);
    expect(notKeeping.size).toBe(1);
  });

  it('answers nothing in a full-lookup run', async () => {
    const { memory } = fakeMemory({ [arnOf('rate')]: { kind: 'recurring', lastModified: at } });

    const answers = await knowledge(memory, { recall: false }).recall([summary('rate')]);

    expect(answers.size).toBe(0);
  });

  it('learns due times without grace, forgets deleted schedules, and never remembers an option-dependent skip', async () => {
    // Prepare
    const { memory, stored, forgotten } = fakeMemory();
    const layer = knowledge(memory);
    const finishedAt = new Date(now.getTime() + 5 * HOUR);

    // Act
    await layer.learn(summary('later', 'DISABLED'), { kind: 'pending', finishedAt });
    await layer.learn(summary('kept'), { kind: 'skipped', reason: 'disabledKept' });
    await layer.learn(summary('gone'), { kind: 'alreadyGone', finished: false });
    await layer.learn(summary('failing'), { kind: 'failed', operation: 'GetSchedule' });

    // Assess
    expect(Object.fromEntries(stored)).toEqual({
      [arnOf('later')]: {
        kind: 'oneTime',
        lastModified: at,
        dueAt: finishedAt.getTime() - HOUR,
        disabled: true,
      },
    });
    expect(forgotten).toEqual([arnOf('gone')]);
  });

  it('neither recalls nor learns a schedule listed without a LastModificationDate', async () => {
    const { memory, stored } = fakeMemory();
    const layer = knowledge(memory);
    const { LastModificationDate: _dropped, ...undated } = summary('undated');

    await layer.learn(undated, { kind: 'recurring' });

    expect(stored.size).toBe(0);
    expect((await layer.recall([undated])).size).toBe(0);
  });
});
