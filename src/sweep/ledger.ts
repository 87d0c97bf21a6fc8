// The ledger: the one place a sweep's counts change. Every count field is listed once, here; an item's
// outcome names the fields it adds to (fieldsOf), and the same list serves the totals, a group's
// `kept` tally (what a listing restarted from its first page takes back) and the continuation's schema.
import { SkipReason } from '../schedule/decide.ts';
import type { GroupProgress, ItemOutcome, KeptCounts, SweepCounts, SweepSummary } from './model.ts';

/** A count field holding one number (skipped counts are kept by reason). */
export type CountField = Exclude<keyof SweepCounts, 'skipped' | 'deletesUncounted'>;

/** Every count field, in the summary's order. */
export const COUNT_FIELDS = [
  'scanned',
  'finished',
  'deleted',
  'wouldDelete',
  'alreadyGone',
  'stuck',
  'pending',
  'recurring',
  'failed',
  'recalled',
  'deletedUnconfirmed',
  'deleteOutcomeUnknown',
  'protected',
] as const satisfies readonly CountField[];

/** Fails to compile when a field of SweepCounts is missing from COUNT_FIELDS. */
export const EVERY_COUNT_FIELD_LISTED: Exclude<CountField, (typeof COUNT_FIELDS)[number]> extends never
  ? true
  : never = true;

/** The fields a group's `kept` may hold: those an outcome that leaves its schedule in place adds to. */
export const KEPT_FIELDS = COUNT_FIELDS.filter(
  (field): field is Exclude<CountField, 'deleted' | 'alreadyGone' | 'deletedUnconfirmed'> =>
    field !== 'deleted' && field !== 'alreadyGone' && field !== 'deletedUnconfirmed',
);

export function emptyCounts(): SweepCounts {
  const counts = Object.fromEntries(COUNT_FIELDS.map((field) => [field, 0])) as Record<CountField, number>;
  return { ...counts, skipped: Object.fromEntries(Object.values(SkipReason).map((reason) => [reason, 0])) };
}

/** What one outcome adds: one to each field, one to its skip reason, and whether it removed the schedule. */
export interface Entry {
  fields: CountField[];
  skipped?: string;
  /** The schedule is gone (deleted, or found gone): a re-list will not see it again. */
  removed: boolean;
}

/** The entry of one settled item; undefined for an item left for a later run (not counted at all). */
export function entryOf(outcome: ItemOutcome, recalled: boolean): Entry | undefined {
  if (outcome.kind === 'notProcessed' || outcome.kind === 'abandoned') return undefined;
  const fields: CountField[] = ['scanned'];
  if (recalled) fields.push('recalled');
  switch (outcome.kind) {
    case 'deleted':
      fields.push('deleted', 'finished');
      if (outcome.decision.stuck) fields.push('stuck');
      if (outcome.unconfirmed) fields.push('deletedUnconfirmed');
      return { fields, removed: true };
    case 'wouldDelete':
      fields.push('wouldDelete', 'finished');
      if (outcome.decision.stuck) fields.push('stuck');
      return { fields, removed: false };
    case 'alreadyGone':
      fields.push('alreadyGone');
      if (outcome.finished) fields.push('finished');
      return { fields, removed: true };
    case 'pending':
    case 'recurring':
    case 'protected':
      fields.push(outcome.kind);
      return { fields, removed: false };
    case 'failed':
      fields.push('failed');
      if (outcome.outcomeUnknown) fields.push('deleteOutcomeUnknown');
      return { fields, removed: false };
    case 'skipped':
      return { fields, skipped: outcome.reason, removed: false };
  }
}

/** Adds a settled item to the totals and, when its schedule stays, to its group's `kept`. */
export function record(
  counts: SweepCounts,
  group: GroupProgress,
  outcome: ItemOutcome,
  recalled: boolean,
): void {
  const entry = entryOf(outcome, recalled);
  if (!entry) return;
  add(counts, entry);
  if (entry.removed) {
    group.removed += 1;
    return;
  }
  const kept: KeptCounts = group.kept ?? {};
  group.kept = kept;
  for (const field of entry.fields) {
    const keptField = field as keyof Omit<KeptCounts, 'skipped'>;
    kept[keptField] = (kept[keptField] ?? 0) + 1;
  }
  if (entry.skipped !== undefined) {
    const skipped = kept.skipped ?? {};
    kept.skipped = skipped;
    skipped[entry.skipped] = (skipped[entry.skipped] ?? 0) + 1;
  }
}

function add(counts: SweepCounts, entry: Entry): void {
  for (const field of entry.fields) counts[field] += 1;
  if (entry.skipped !== undefined) counts.skipped[entry.skipped] = (counts.skipped[entry.skipped] ?? 0) + 1;
}

/** Subtracts what a restarted listing had counted of the schedules it kept (the re-list counts them again). */
export function takeBack(counts: SweepCounts, kept: KeptCounts | undefined): void {
  if (!kept) return;
  for (const field of KEPT_FIELDS) counts[field] -= kept[field] ?? 0;
  for (const [reason, value] of Object.entries(kept.skipped ?? {})) {
    counts.skipped[reason] = (counts.skipped[reason] ?? 0) - value;
  }
}

/** Counts carried from earlier runs over empty ones (a field they lack stays 0). */
export function mergeCounts(base: SweepCounts, extra: Partial<SweepCounts> | undefined): SweepCounts {
  if (!extra) return base;
  return { ...base, ...extra, skipped: { ...base.skipped, ...extra.skipped } };
}

/** The counts of a summary, as a continuation or checkpoint carries them. */
export function countsOf(summary: SweepCounts): SweepCounts {
  const counts = Object.fromEntries(COUNT_FIELDS.map((field) => [field, summary[field]])) as Record<
    CountField,
    number
  >;
  return {
    ...counts,
    skipped: { ...summary.skipped },
    ...(summary.deletesUncounted === undefined ? {} : { deletesUncounted: summary.deletesUncounted }),
  };
}

/** The totals a summary derives from its counts. */
export function derived(counts: SweepCounts): Pick<SweepSummary, 'skippedTotal' | 'uncertain'> {
  return {
    skippedTotal: Object.values(counts.skipped).reduce((sum, value) => sum + value, 0),
    uncertain: {
      deleted: counts.deletedUnconfirmed + counts.deleteOutcomeUnknown + (counts.deletesUncounted ?? 0),
    },
  };
}
