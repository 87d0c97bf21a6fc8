// The census's invoke payload. A scheduled event or an empty payload starts a census; the census's
// own hand-off to a fresh invocation, `{ "continuation": {...} }`, carries one on. The continuation
// is checked field by field before any AWS call, unknown keys are named, and counters are rebuilt on
// prototype-less objects, since a schedule group may be named "__proto__".

import * as v from 'valibot';
import { InputError } from '../errors.ts';
import { isRecord, isScheduledEvent, readExact, UnknownFieldError } from '../payload.ts';
import {
  readProducerTally,
  type SerializedProducerTally,
  serializeProducerTally,
} from '../producers/tally.ts';
import { NAME_FORM, NAME_PATTERN } from '../schedule/name.ts';
import { count, isoInstant, seconds, text, wholeNumber } from '../validate.ts';
import type { CensusProgress } from './census.ts';

export interface CensusContinuation {
  /** The run that holds the census lease. */
  runId: string;
  /** This invocation's number in the run: 2 for the first continuation. */
  invocation: number;
  /** When the run's first invocation began (ISO 8601). */
  startedAt: string;
  /** ListSchedules' NextToken where the previous invocation stopped. */
  nextToken: string;
  progress: CensusProgress;
}

export type CensusEvent = { kind: 'start' } | { kind: 'continuation'; continuation: CensusContinuation };

/**
 * 10,000,000 schedules at 1 ListSchedules request per second (the lowest CENSUS_LIST_TPS) take
 * 100,000 s, about 115 invocations of 15 minutes; a chain longer than this is going nowhere.
 */
export const MAX_INVOCATIONS = 200;
/**
 * Far above the 500-group default quota. The payload itself stops earlier: each group costs about
 * 100 bytes, and Lambda refuses an async payload over 256 KB (the hand-off then fails, and says so).
 */
const MAX_GROUPS = 10_000;
const MAX_TOKEN_LENGTH = 8192;
const RUN_ID = /^[0-9a-zA-Z-]{1,64}$/;
/** Scheduler's states are ENABLED and DISABLED; UNKNOWN counts a summary without one. */
const STATE_NAME = /^[A-Z][A-Z_]{0,31}$/;

const CONTINUATION_FIELDS = ['runId', 'invocation', 'startedAt', 'nextToken', 'progress'] as const;
const PROGRESS_FIELDS = ['groups', 'producers', 'pages', 'listRequests', 'durationSeconds'] as const;
const EXPECTED_EVENT =
  'a scheduled event, an empty object, or {"continuation": {...}} from the census itself';

export function parseCensusEvent(event: unknown): CensusEvent {
  if (event === undefined || event === null || event === '') return { kind: 'start' };
  if (!isRecord(event)) throw new InputError('census payload', EXPECTED_EVENT, event);
  if (isScheduledEvent(event)) return { kind: 'start' };
  const keys = Object.keys(event);
  if (keys.length === 0) return { kind: 'start' };
  const unknown = keys.filter((key) => key !== 'continuation');
  if (unknown.length > 0) throw new UnknownFieldError(unknown, ['continuation'], 'census payload');
  return { kind: 'continuation', continuation: readContinuation(event.continuation) };
}

const continuationSchema = v.strictObject({
  runId: text(RUN_ID, 'a run id (1-64 of 0-9 a-z A-Z -)'),
  invocation: wholeNumber(2, MAX_INVOCATIONS),
  startedAt: isoInstant,
  nextToken: v.pipe(
    v.string('a ListSchedules NextToken'),
    v.minLength(1, 'a ListSchedules NextToken'),
    v.maxLength(MAX_TOKEN_LENGTH, 'a ListSchedules NextToken'),
  ),
  progress: v.unknown(),
});

const progressSchema = v.strictObject({
  groups: v.unknown(),
  producers: v.optional(v.unknown()),
  pages: count,
  listRequests: count,
  durationSeconds: seconds,
});

function readContinuation(value: unknown): CensusContinuation {
  const record = readExact('continuation', value, CONTINUATION_FIELDS, continuationSchema);
  const progress = readExact('continuation.progress', record.progress, PROGRESS_FIELDS, progressSchema);
  const groups = readGroups(progress.groups);
  const producers = readProducers(progress.producers, groups);
  return {
    runId: record.runId,
    invocation: record.invocation,
    startedAt: record.startedAt,
    nextToken: record.nextToken,
    progress: {
      groups,
      ...(producers ? { producers } : {}),
      pages: progress.pages,
      listRequests: progress.listRequests,
      durationSeconds: progress.durationSeconds,
    },
  };
}

/**
 * The producer tally carried so far (optional: a continuation from a version without it has none),
 * checked by its own reader, and refused unless it counted exactly the schedules the groups did.
 */
function readProducers(
  value: unknown,
  groups: CensusProgress['groups'],
): SerializedProducerTally | undefined {
  if (value === undefined) return undefined;
  const field = 'continuation.progress.producers';
  const tally = readProducerTally(value, field);
  const counted = Object.values(groups)
    .flatMap((states) => Object.values(states))
    .reduce((sum, stateCount) => sum + stateCount, 0);
  if (tally.targets.total !== counted) {
    throw new InputError(
      `${field}.targets.total`,
      `the number of schedules the groups counted (${counted})`,
      tally.targets.total,
    );
  }
  return serializeProducerTally(tally);
}

/**
 * Counts by group and state. Read by hand rather than with a valibot record, which leaves a key
 * named "__proto__" out of its output; a schedule group may have that name.
 */
function readGroups(value: unknown): CensusProgress['groups'] {
  const field = 'continuation.progress.groups';
  if (!isRecord(value) || Object.keys(value).length > MAX_GROUPS) {
    throw new InputError(field, `an object of up to ${MAX_GROUPS} groups, each {state: count}`, value);
  }
  const groups: CensusProgress['groups'] = Object.create(null);
  for (const [group, states] of Object.entries(value)) {
    const groupField = `${field}.${group}`;
    if (!NAME_PATTERN.test(group)) {
      throw new InputError(groupField, `a schedule group name (${NAME_FORM})`, group);
    }
    if (!isRecord(states) || Object.keys(states).length === 0) {
      throw new InputError(groupField, 'an object of counts by state, such as {"ENABLED": 12}', states);
    }
    const counts: Record<string, number> = Object.create(null);
    for (const [state, stateCount] of Object.entries(states)) {
      if (!STATE_NAME.test(state)) {
        throw new InputError(`${groupField}.${state}`, 'a schedule state such as ENABLED or DISABLED', state);
      }
      const result = v.safeParse(count, stateCount);
      if (!result.success)
        throw new InputError(`${groupField}.${state}`, result.issues[0].message, stateCount);
      counts[state] = result.output;
    }
    groups[group] = counts;
  }
  return groups;
}
