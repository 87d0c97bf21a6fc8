// Who makes the schedules: counts per target ARN (the producer, for most applications), per
// schedule group and per group × target, in bounded memory and a bounded serialized size, so a
// census or sweep of 10M schedules can carry its tally from one invocation to the next.
//
// Each dimension is a Space-Saving summary (Metwally, Agrawal, El Abbadi, "Efficient Computation of
// Frequent and Top-k Elements in Data Streams", ICDT 2005) of `capacity` counters. Guarantees, for
// a summary over `total` schedules:
//   - a key held has an estimate `count` with true ≤ count ≤ true + error, and error ≤ total / capacity;
//   - a key not held has true ≤ the smallest count held (≤ total / capacity);
//   - so every key whose true count exceeds total / capacity is held.
// Merging two summaries (Cafaro, Pulimeno, Tempesta, "A parallel space saving algorithm for
// frequent items and the Hurwitz zeta distribution", 2016) keeps the same bound over the sum of
// their totals. A key counted with error 0 is exact: with no more distinct keys than `capacity`,
// every count is exact.
//
// The published and reported figure is the guaranteed count, `count − error` ("at least"), so the
// top N and "Other" add up to the total exactly and no producer is ever shown larger than it is.
//
// Why not a library: npm's bloom-filters TopK is a Count-Min Sketch plus a heap; its sketch for a 1%
// error is thousands of counters (tens of KB serialized, against a few KB here) and it has no merge.

import { createHash } from 'node:crypto';
import { InputError } from '../errors.ts';
import { NAME_PATTERN } from '../schedule/name.ts';

/** Counters per dimension. Error ≤ total / 50 = 2% of the schedules counted (see above). */
export const TALLY_CAPACITY = 50;
/**
 * Target ARNs up to 1,600 characters (Scheduler API model) are clipped to this many, with a hash of
 * the whole ARN, so two long ARNs that share a prefix stay two producers: `<first 80>...#<8 hex>`.
 * An ARN with a character outside printable ASCII is written so too, that character as `?`.
 */
export const MAX_KEY_LENGTH = 92;
const CLIP_PREFIX = 80;
/** Keys are printable ASCII without spaces (CloudWatch dimension values, CSV cells, log lines). */
const NOT_PRINTABLE = /[^!-~]/g;
/** The key of a summary without a target ARN (ListSchedules always returns one; kept for safety). */
export const NO_TARGET = '(none)';
/** The name "Other" stands for in a top N: every key not shown. */
export const OTHER = 'Other';

interface Counter {
  count: number;
  error: number;
}

/** One Space-Saving summary. Mutable for speed in the counting loop; everything else is a value. */
export interface SpaceSaving {
  capacity: number;
  /** Everything counted, held or not. */
  total: number;
  counters: Map<string, Counter>;
}

/** Counts per target, per group, and per group × target (key `<group> <target>`; a group name has no space). */
export interface ProducerTally {
  targets: SpaceSaving;
  groups: SpaceSaving;
  pairs: SpaceSaving;
}

/** One line of a top N. `count` is guaranteed (true ≥ count); the true count is at most `count + uncertainty`. */
export interface TopEntry {
  key: string;
  count: number;
  /** 0 when exact. */
  uncertainty: number;
}

export interface Top {
  entries: TopEntry[];
  /** total − Σ entries' counts: everything not shown (and what the shown ones may lack). */
  other: number;
  total: number;
  /** The most any key not shown can hold (the summary's smallest counter when full, else 0). */
  notShownAtMost: number;
}

export function createSpaceSaving(capacity: number = TALLY_CAPACITY): SpaceSaving {
  if (!Number.isInteger(capacity) || capacity < 1)
    throw new RangeError(`capacity must be 1 or more, got ${capacity}`);
  return { capacity, total: 0, counters: new Map() };
}

export function createProducerTally(capacity: number = TALLY_CAPACITY): ProducerTally {
  return {
    targets: createSpaceSaving(capacity),
    groups: createSpaceSaving(capacity),
    pairs: createSpaceSaving(capacity),
  };
}

/** Counts `by` more of `key` (Space-Saving's update: a new key takes over the smallest counter when full). */
export function addTo(summary: SpaceSaving, key: string, by = 1): void {
  summary.total += by;
  const held = summary.counters.get(key);
  if (held) {
    held.count += by;
    return;
  }
  if (summary.counters.size < summary.capacity) {
    summary.counters.set(key, { count: by, error: 0 });
    return;
  }
  const [smallestKey, smallest] = smallestCounter(summary);
  summary.counters.delete(smallestKey);
  summary.counters.set(key, { count: smallest.count + by, error: smallest.count });
}

/** The key a target ARN is counted under: itself, or clipped with a hash when longer than MAX_KEY_LENGTH. */
export function producerKey(targetArn: string | undefined): string {
  if (targetArn === undefined || targetArn === '') return NO_TARGET;
  const printable = targetArn.replace(NOT_PRINTABLE, '?');
  if (printable === targetArn && targetArn.length <= MAX_KEY_LENGTH) return targetArn;
  const hash = createHash('sha256').update(targetArn).digest('hex').slice(0, 8);
  return `${printable.slice(0, CLIP_PREFIX)}...#${hash}`;
}

/** Counts one schedule (a ListSchedules summary: its GroupName and Target.Arn). */
export function countSchedule(
  tally: ProducerTally,
  schedule: { GroupName?: string | undefined; Target?: { Arn?: string | undefined } | undefined },
): void {
  const group = schedule.GroupName || 'default';
  const target = producerKey(schedule.Target?.Arn);
  addTo(tally.targets, target);
  addTo(tally.groups, group);
  addTo(tally.pairs, `${group} ${target}`);
}

/** Splits a pair key back into its group and target. */
export function splitPair(key: string): { group: string; target: string } {
  const space = key.indexOf(' ');
  return { group: key.slice(0, space), target: key.slice(space + 1) };
}

/**
 * The union of two summaries of the same capacity, as one summary over both totals: a key missing
 * from a full summary is counted at that summary's smallest counter (its most), with as much error.
 */
export function mergeSpaceSaving(a: SpaceSaving, b: SpaceSaving): SpaceSaving {
  if (a.capacity !== b.capacity) {
    throw new RangeError(`cannot merge summaries of capacity ${a.capacity} and ${b.capacity}`);
  }
  const floorA = floorOf(a);
  const floorB = floorOf(b);
  const combined: [string, Counter][] = [];
  for (const key of new Set([...a.counters.keys(), ...b.counters.keys()])) {
    const inA = a.counters.get(key) ?? { count: floorA, error: floorA };
    const inB = b.counters.get(key) ?? { count: floorB, error: floorB };
    combined.push([key, { count: inA.count + inB.count, error: inA.error + inB.error }]);
  }
  combined.sort(([keyA, x], [keyB, y]) => y.count - x.count || compareKeys(keyA, keyB));
  return { capacity: a.capacity, total: a.total + b.total, counters: new Map(combined.slice(0, a.capacity)) };
}

export function mergeProducerTallies(a: ProducerTally, b: ProducerTally): ProducerTally {
  return {
    targets: mergeSpaceSaving(a.targets, b.targets),
    groups: mergeSpaceSaving(a.groups, b.groups),
    pairs: mergeSpaceSaving(a.pairs, b.pairs),
  };
}

/**
 * The `n` keys with the largest guaranteed counts (ties: the larger estimate, then the key), and
 * "Other" for the rest, so the entries and `other` add up to `total`.
 */
export function topOf(summary: SpaceSaving, n: number): Top {
  const entries = [...summary.counters]
    .map(([key, counter]) => ({ key, count: counter.count - counter.error, uncertainty: counter.error }))
    .sort((x, y) => y.count - x.count || y.uncertainty - x.uncertainty || compareKeys(x.key, y.key))
    .slice(0, Math.max(0, n));
  const shown = entries.reduce((sum, entry) => sum + entry.count, 0);
  return { entries, other: summary.total - shown, total: summary.total, notShownAtMost: floorOf(summary) };
}

/** The most any single key's true count can be off, over the whole summary (≤ total / capacity). */
export function maximumError(summary: SpaceSaving): number {
  let most = floorOf(summary);
  for (const counter of summary.counters.values()) most = Math.max(most, counter.error);
  return most;
}

// ----- serialization: compact, bounded, checked on the way in

/** A summary as JSON: `[key, count, error]` triples. About 20 bytes plus the key per counter. */
export interface SerializedSpaceSaving {
  capacity: number;
  total: number;
  counters: [string, number, number][];
}

export interface SerializedProducerTally {
  targets: SerializedSpaceSaving;
  groups: SerializedSpaceSaving;
  pairs: SerializedSpaceSaving;
}

/**
 * The most a serialized producer tally of the default capacity takes as JSON: 50 counters × 3
 * dimensions, keys at their longest (92-character targets, 64-character groups), ≈ 18 KB. Typical
 * target ARNs (60-80 characters) make it 8-12 KB.
 */
export const MAX_SERIALIZED_BYTES = 20_000;

export function serializeSpaceSaving(summary: SpaceSaving): SerializedSpaceSaving {
  return {
    capacity: summary.capacity,
    total: summary.total,
    counters: [...summary.counters].map(([key, counter]) => [key, counter.count, counter.error]),
  };
}

export function serializeProducerTally(tally: ProducerTally): SerializedProducerTally {
  return {
    targets: serializeSpaceSaving(tally.targets),
    groups: serializeSpaceSaving(tally.groups),
    pairs: serializeSpaceSaving(tally.pairs),
  };
}

const MAX_CAPACITY = 1000;

/**
 * Reads a serialized tally (from a continuation or the state table), checking every field against
 * the invariants a real summary keeps. Throws InputError naming the field (`field.targets.counters[3]`).
 */
export function readProducerTally(value: unknown, field: string): ProducerTally {
  const record = objectWith(value, field, ['targets', 'groups', 'pairs']);
  const targets = readSpaceSaving(record.targets, `${field}.targets`, (key) => isTargetKey(key));
  const groups = readSpaceSaving(record.groups, `${field}.groups`, (key) => NAME_PATTERN.test(key));
  const pairs = readSpaceSaving(record.pairs, `${field}.pairs`, (key) => {
    const space = key.indexOf(' ');
    return space > 0 && NAME_PATTERN.test(key.slice(0, space)) && isTargetKey(key.slice(space + 1));
  });
  if (targets.total !== groups.total || targets.total !== pairs.total) {
    throw new InputError(
      `${field}.targets.total`,
      'the same total in targets, groups and pairs (each counts every schedule once)',
      { targets: targets.total, groups: groups.total, pairs: pairs.total },
    );
  }
  return { targets, groups, pairs };
}

function isTargetKey(key: string): boolean {
  return key.length >= 1 && key.length <= MAX_KEY_LENGTH && /^[!-~]+$/.test(key);
}

/** Reads one serialized summary, checked as readProducerTally checks each of its three; `validKey` judges a key. */
export function readSpaceSaving(
  value: unknown,
  field: string,
  validKey: (key: string) => boolean,
): SpaceSaving {
  const record = objectWith(value, field, ['capacity', 'total', 'counters']);
  const capacity = record.capacity;
  if (!Number.isInteger(capacity) || (capacity as number) < 1 || (capacity as number) > MAX_CAPACITY) {
    throw new InputError(`${field}.capacity`, `a whole number from 1 to ${MAX_CAPACITY}`, capacity);
  }
  const total = record.total;
  if (!Number.isSafeInteger(total) || (total as number) < 0) {
    throw new InputError(`${field}.total`, 'a whole number, 0 or more', total);
  }
  const raw = record.counters;
  if (!Array.isArray(raw) || raw.length > (capacity as number)) {
    throw new InputError(
      `${field}.counters`,
      `an array of at most capacity (${capacity}) [key, count, error]`,
      raw,
    );
  }
  const counters = new Map<string, Counter>();
  let sum = 0;
  raw.forEach((item: unknown, index) => {
    const where = `${field}.counters[${index}]`;
    const expected = '[key, count, error]: a key, then whole numbers with 0 ≤ error < count';
    if (!Array.isArray(item) || item.length !== 3) throw new InputError(where, expected, item);
    const [key, count, error] = item as unknown[];
    if (typeof key !== 'string' || !validKey(key)) throw new InputError(`${where}[0]`, 'a producer key', key);
    if (counters.has(key)) throw new InputError(`${where}[0]`, 'a key held once', key);
    if (!Number.isSafeInteger(count) || !Number.isSafeInteger(error))
      throw new InputError(where, expected, item);
    if ((error as number) < 0 || (error as number) >= (count as number))
      throw new InputError(where, expected, item);
    counters.set(key, { count: count as number, error: error as number });
    sum += (count as number) - (error as number);
  });
  // Guaranteed counts never add up to more than everything counted.
  if (sum > (total as number)) {
    throw new InputError(`${field}.total`, 'at least the sum of the counters’ guaranteed counts', total);
  }
  return { capacity: capacity as number, total: total as number, counters };
}

function objectWith(value: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
  const expected = `an object with exactly ${keys.join(', ')}`;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InputError(field, expected, value);
  const record = value as Record<string, unknown>;
  const present = Object.keys(record);
  const unknown = present.filter((key) => !keys.includes(key));
  const missing = keys.filter((key) => !(key in record));
  if (unknown.length > 0 || missing.length > 0) {
    throw new InputError(`${field}.${unknown[0] ?? missing[0]}`, expected, value);
  }
  return record;
}

// ----- helpers

/** The smallest counter (ties: the key that sorts last, so eviction is deterministic). */
function smallestCounter(summary: SpaceSaving): [string, Counter] {
  let found: [string, Counter] | undefined;
  for (const entry of summary.counters) {
    if (
      !found ||
      entry[1].count < found[1].count ||
      (entry[1].count === found[1].count && compareKeys(entry[0], found[0]) > 0)
    ) {
      found = entry;
    }
  }
  return found!;
}

/** What a key not held may have counted: the smallest counter when the summary is full, else 0. */
function floorOf(summary: SpaceSaving): number {
  if (summary.counters.size < summary.capacity) return 0;
  return smallestCounter(summary)[1].count;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
