// The ledger alone: one list of count fields, one place that counts (no emulator).
import { describe, expect, it } from 'vitest';
import {
  COUNT_FIELDS,
  countsOf,
  emptyCounts,
  entryOf,
  KEPT_FIELDS,
  record,
  takeBack,
} from '../../src/sweep/ledger.ts';
import type { GroupProgress, ItemOutcome } from '../../src/sweep/model.ts';

const finished = { outcome: 'finished', finishedAt: new Date(0), stuck: false } as const;
const group = (): GroupProgress => ({
  seen: 0,
  removed: 0,
  fromFirstPage: true,
  listed: false,
  unprocessed: false,
});

const EVERY_OUTCOME: ItemOutcome[] = [
  { kind: 'deleted', decision: finished },
  { kind: 'deleted', decision: { ...finished, stuck: true }, unconfirmed: true },
  { kind: 'wouldDelete', decision: finished },
  { kind: 'alreadyGone', finished: true },
  { kind: 'alreadyGone', finished: false },
  { kind: 'pending', finishedAt: new Date(0) },
  { kind: 'recurring' },
  { kind: 'skipped', reason: 'changedDuringSweep' },
  { kind: 'protected', by: 'groupTag' },
  { kind: 'failed', operation: 'DeleteSchedule', outcomeUnknown: true },
  { kind: 'failed', operation: 'GetSchedule' },
];

describe('ledger', () => {
  it('counts every settled outcome once as scanned, and nothing for an item left for a later run', () => {
    const counts = emptyCounts();
    for (const outcome of EVERY_OUTCOME) record(counts, group(), outcome, false);
    record(counts, group(), { kind: 'notProcessed' }, false);
    record(counts, group(), { kind: 'abandoned' }, false);

    expect(counts.scanned).toBe(EVERY_OUTCOME.length);
    expect(counts).toMatchObject({
      deleted: 2,
      deletedUnconfirmed: 1,
      stuck: 1,
      wouldDelete: 1,
      finished: 4,
      alreadyGone: 2,
      pending: 1,
      recurring: 1,
      protected: 1,
      failed: 2,
      deleteOutcomeUnknown: 1,
    });
    expect(counts.skipped.changedDuringSweep).toBe(1);
  });

  it('takes back exactly what a restarted listing counted of the schedules it kept, and nothing it removed', () => {
    // Prepare: one group's listing counts everything once, then restarts
    const counts = emptyCounts();
    const tally = group();
    for (const outcome of EVERY_OUTCOME) record(counts, tally, outcome, true);
    const removedCounts = emptyCounts();
    for (const outcome of EVERY_OUTCOME) {
      if (entryOf(outcome, true)?.removed) record(removedCounts, group(), outcome, true);
    }

    // Act
    takeBack(counts, tally.kept);

    // Assess: only the removed schedules stay counted (a protected schedule included: it is re-listed)
    for (const field of COUNT_FIELDS) {
      expect({ field, value: counts[field] }).toEqual({ field, value: removedCounts[field] });
    }
    expect(Object.values(counts.skipped).every((value) => value === 0)).toBe(true);
    expect(tally.removed).toBe(4);
  });

  it('lists every count field once, and keeps the fields of schedules that stay', () => {
    expect(new Set(COUNT_FIELDS).size).toBe(COUNT_FIELDS.length);
    expect(Object.keys(emptyCounts()).sort()).toEqual([...COUNT_FIELDS, 'skipped'].sort());
    expect(KEPT_FIELDS).not.toContain('deleted');
    expect(KEPT_FIELDS).toContain('protected');
  });

  it('carries counts as a continuation does, field for field', () => {
    const counts = emptyCounts();
    for (const outcome of EVERY_OUTCOME) record(counts, group(), outcome, false);
    expect(countsOf({ ...counts, deletesUncounted: 3 })).toEqual({ ...counts, deletesUncounted: 3 });
    expect(countsOf(counts)).not.toHaveProperty('deletesUncounted');
  });
});
