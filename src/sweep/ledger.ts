// The ledger: the one place a sweep's counts change. Every count field is listed once, here; an item's
// outcome names the fields it adds to (fieldsOf), and the same list serves the totals, a group's
// `kept` tally (what a listing restarted from its first page takes back) and the continuation's schema.
//
// Beside the counts, two bounded tallies of the finished schedules (SweepTallies): who they belong to
// (src/producers/sweep.ts) and which CloudFormation stacks own those kept for it. Each counts an
// item once, when it settles, like the counts; an item left for a later run is not counted.
import type { ScheduleSummary } from '@aws-sdk/client-scheduler';
import { InputError } from '../errors.ts';
import {
  createSweepProducers,
  mergeSweepProducers,
  readSweepProducers,
  recordFinished,
  SWEEP_TALLY_CAPACITY,
  type SweepProducers,
  serializeSweepProducers,
  summarizeSweepProducers,
} from '../producers/sweep.ts';
import {
  addTo,
  createSpaceSaving,
  mergeSpaceSaving,
  readSpaceSaving,
  type SpaceSaving,
  serializeSpaceSaving,
  topOf,
} from '../producers/tally.ts';
import { SkipReason } from '../schedule/decide.ts';
import type {
  CloudFormationOwnedSummary,
  GroupProgress,
  ItemOutcome,
  KeptCounts,
  SweepCounts,
  SweepSummary,
  SweepTallies,
} from './model.ts';

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

// ---- The tallies of finished schedules ----------------------------------------------------------

/** One pair of tallies: finished schedules per producer, and those kept as cloudFormationOwned per stack. */
export interface TallyPair {
  producers: SweepProducers;
  ownedByStack: SpaceSaving;
}

/**
 * The tallies while a segment runs (SweepTallies is their JSON form). What a listing counted of
 * schedules it kept is held apart per listing (`listings`, keyed by listingKey), as a group's `kept`
 * counts are, until the listing is over: a listing restarted from its first page drops its own
 * (the re-list counts them again), and a tally cannot be subtracted from.
 */
export interface Tallies {
  settled: TallyPair;
  listings: Map<string, TallyPair>;
}

/** The key of an item's listing: its group when groups are listed one by one, else the one listing. */
export function listingKey(groupName: string | undefined): string {
  return groupName ?? '*';
}

/** Lines in the summary's views (and its log line): the top this many targets, groups, pairs and stacks. */
export const SUMMARY_TOP = 10;

/** CloudFormation stack names: a letter, then letters, digits and hyphens, 128 at most. */
const STACK_NAME = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/;

function emptyPair(): TallyPair {
  return { producers: createSweepProducers(), ownedByStack: createSpaceSaving(SWEEP_TALLY_CAPACITY) };
}

function mergePairs(a: TallyPair, b: TallyPair): TallyPair {
  return {
    producers: mergeSweepProducers(a.producers, b.producers),
    ownedByStack: mergeSpaceSaving(a.ownedByStack, b.ownedByStack),
  };
}

export function emptyTallies(): Tallies {
  return { settled: emptyPair(), listings: new Map() };
}

/**
 * Adds a settled item to the tallies: a finished verdict to the producers, an owned one to its
 * stack; into `settled` when its schedule is gone (never listed again), else into its listing's.
 */
export function recordTallies(
  tallies: Tallies,
  listing: string,
  summary: Pick<ScheduleSummary, 'GroupName' | 'Target'>,
  outcome: ItemOutcome,
): void {
  const entry = entryOf(outcome, false);
  // Left for a later run: counted there, once.
  if (!entry) return;
  const owned =
    outcome.kind === 'skipped' && outcome.reason === SkipReason.cloudFormationOwned
      ? outcome.stack
      : undefined;
  if (!outcome.foundFinished && owned === undefined) return;
  let pair = tallies.settled;
  if (!entry.removed) {
    pair = tallies.listings.get(listing) ?? emptyPair();
    tallies.listings.set(listing, pair);
  }
  if (outcome.foundFinished) recordFinished(pair.producers, summary, outcome.foundFinished.stuck);
  if (owned !== undefined) addTo(pair.ownedByStack, owned);
}

/** A listing restarted from its first page: what it counted of the schedules it kept is dropped. */
export function dropListing(tallies: Tallies, listing: string): void {
  tallies.listings.delete(listing);
}

/** A listing that is over (listed to its end, every item settled): its tallies join the settled ones. */
export function closeListing(tallies: Tallies, listing: string): void {
  const pair = tallies.listings.get(listing);
  if (!pair) return;
  tallies.settled = mergePairs(tallies.settled, pair);
  tallies.listings.delete(listing);
}

/** Everything counted, as one pair. */
function whole(tallies: Tallies, except?: string): TallyPair {
  let pair = tallies.settled;
  for (const [key, listing] of tallies.listings) if (key !== except) pair = mergePairs(pair, listing);
  return pair;
}

function serializePair(pair: TallyPair): Omit<SweepTallies, 'listing'> {
  return {
    producers: serializeSweepProducers(pair.producers),
    ownedByStack: serializeSpaceSaving(pair.ownedByStack),
  };
}

/**
 * The tallies as a continuation carries them: `listing` is what the listing `resumed` (the one its
 * cursor resumes in) counted of schedules it kept; every other listing is over for it, so settled.
 */
export function serializeTallies(tallies: Tallies, resumed?: string): SweepTallies {
  const listing = resumed === undefined ? undefined : tallies.listings.get(resumed);
  return {
    ...serializePair(whole(tallies, listing ? resumed : undefined)),
    ...(listing ? { listing: serializePair(listing) } : {}),
  };
}

/**
 * Reads carried tallies exactly (a continuation's, a checkpoint's), their `listing` under
 * `resumed`; throws InputError naming the field (`<field>.producers.finished.targets.total`, ...).
 */
export function readTallies(value: unknown, field: string, resumed = '*'): Tallies {
  const record = objectOf(value, field, ['producers', 'ownedByStack', 'listing']);
  const settled = readPair(record, field);
  const tallies: Tallies = { settled, listings: new Map() };
  if (record.listing !== undefined) {
    const listing = objectOf(record.listing, `${field}.listing`, ['producers', 'ownedByStack']);
    tallies.listings.set(resumed, readPair(listing, `${field}.listing`));
  }
  return tallies;
}

function objectOf(value: unknown, field: string, allowed: string[]): Record<string, unknown> {
  const expected = `an object with ${allowed.join(', ')}`;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InputError(field, expected, value);
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).find((key) => !allowed.includes(key));
  if (extra !== undefined) throw new InputError(`${field}.${extra}`, expected, record[extra]);
  return record;
}

function readPair(record: Record<string, unknown>, field: string): TallyPair {
  const producers = readSweepProducers(record.producers, `${field}.producers`);
  const ownedByStack = readSpaceSaving(record.ownedByStack, `${field}.ownedByStack`, (key) =>
    STACK_NAME.test(key),
  );
  // The sweep's own capacity, and no other: it bounds what a continuation carries (Lambda's 256 KB).
  const summaries: [string, SpaceSaving][] = [['ownedByStack', ownedByStack]];
  for (const kind of ['finished', 'stuck'] as const) {
    for (const dimension of ['targets', 'groups', 'pairs'] as const)
      summaries.push([`producers.${kind}.${dimension}`, producers[kind][dimension]]);
  }
  for (const [name, summary] of summaries) {
    if (summary.capacity !== SWEEP_TALLY_CAPACITY) {
      throw new InputError(`${field}.${name}.capacity`, `${SWEEP_TALLY_CAPACITY}`, summary.capacity);
    }
  }
  // An owned schedule was found finished first: the producers counted it.
  if (ownedByStack.total > producers.finished.targets.total) {
    throw new InputError(
      `${field}.ownedByStack.total`,
      `at most the finished schedules counted (${producers.finished.targets.total})`,
      ownedByStack.total,
    );
  }
  return { producers, ownedByStack };
}

/** The summary's views of the tallies (top SUMMARY_TOP each), and the tallies as a resumed run carries them. */
export function talliesView(
  tallies: Tallies,
  resumed?: string,
): Pick<SweepSummary, 'producers' | 'cloudFormationOwned' | 'tallies'> {
  const all = whole(tallies);
  const top = topOf(all.ownedByStack, SUMMARY_TOP);
  const cloudFormationOwned: CloudFormationOwnedSummary = {
    total: top.total,
    stacks: top.entries.map((entry) => ({
      stack: entry.key,
      count: entry.count,
      uncertainty: entry.uncertainty,
    })),
    otherStacks: top.other,
  };
  return {
    producers: summarizeSweepProducers(all.producers, SUMMARY_TOP),
    cloudFormationOwned,
    tallies: serializeTallies(tallies, resumed),
  };
}
