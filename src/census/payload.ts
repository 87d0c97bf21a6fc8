// The census's invoke payload. A scheduled event or an empty payload starts a census; the census's
// own hand-off to a fresh invocation, `{ "continuation": {...} }`, carries one on. The continuation
// is checked field by field before any AWS call, unknown keys are named, and counters are rebuilt on
// prototype-less objects, since a schedule group may be named "__proto__".
import { InputError } from '../errors.ts';
import { isRecord, isScheduledEvent, readCount, readExact, readInteger } from '../payload.ts';
import type { CensusProgress } from './census.ts';
import { GROUP_NAME } from './config.ts';

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
const PROGRESS_FIELDS = ['groups', 'pages', 'listRequests', 'durationSeconds'] as const;
const EXPECTED_EVENT =
  'a scheduled event, an empty object, or {"continuation": {...}} from the census itself';

export function parseCensusEvent(event: unknown): CensusEvent {
  if (event === undefined || event === null || event === '') return { kind: 'start' };
  if (!isRecord(event)) throw new InputError('census payload', EXPECTED_EVENT, event);
  if (isScheduledEvent(event)) return { kind: 'start' };
  const keys = Object.keys(event);
  if (keys.length === 0) return { kind: 'start' };
  const unknown = keys.filter((key) => key !== 'continuation');
  if (unknown.length > 0) {
    const error = new InputError(unknown.join(', '), EXPECTED_EVENT);
    error.message = `Unknown field${unknown.length > 1 ? 's' : ''} '${unknown.join("', '")}' in census payload; expected ${EXPECTED_EVENT}`;
    throw error;
  }
  return { kind: 'continuation', continuation: readContinuation(event.continuation) };
}

function readContinuation(value: unknown): CensusContinuation {
  const record = readExact('continuation', value, CONTINUATION_FIELDS);
  const { runId, startedAt, nextToken } = record;
  if (typeof runId !== 'string' || !RUN_ID.test(runId)) {
    throw new InputError('continuation.runId', 'a run id (1-64 of 0-9 a-z A-Z -)', runId);
  }
  if (typeof startedAt !== 'string' || Number.isNaN(Date.parse(startedAt))) {
    throw new InputError('continuation.startedAt', 'an ISO 8601 date-time', startedAt);
  }
  if (typeof nextToken !== 'string' || nextToken === '' || nextToken.length > MAX_TOKEN_LENGTH) {
    throw new InputError('continuation.nextToken', 'a ListSchedules NextToken', nextToken);
  }
  return {
    runId,
    invocation: readInteger('continuation.invocation', record.invocation, 2, MAX_INVOCATIONS),
    startedAt,
    nextToken,
    progress: readProgress(record.progress),
  };
}

function readProgress(value: unknown): CensusProgress {
  const record = readExact('continuation.progress', value, PROGRESS_FIELDS);
  const durationSeconds = record.durationSeconds;
  if (typeof durationSeconds !== 'number' || !Number.isFinite(durationSeconds) || durationSeconds < 0) {
    throw new InputError(
      'continuation.progress.durationSeconds',
      'a number of seconds, 0 or more',
      durationSeconds,
    );
  }
  return {
    groups: readGroups(record.groups),
    pages: readCount('continuation.progress.pages', record.pages),
    listRequests: readCount('continuation.progress.listRequests', record.listRequests),
    durationSeconds,
  };
}

function readGroups(value: unknown): CensusProgress['groups'] {
  const field = 'continuation.progress.groups';
  if (!isRecord(value) || Object.keys(value).length > MAX_GROUPS) {
    throw new InputError(field, `an object of up to ${MAX_GROUPS} groups, each {state: count}`, value);
  }
  const groups: CensusProgress['groups'] = Object.create(null);
  for (const [group, states] of Object.entries(value)) {
    const groupField = `${field}.${group}`;
    if (!GROUP_NAME.test(group)) {
      throw new InputError(groupField, 'a schedule group name (1-64 of 0-9 a-z A-Z - _ .)', group);
    }
    if (!isRecord(states) || Object.keys(states).length === 0) {
      throw new InputError(groupField, 'an object of counts by state, such as {"ENABLED": 12}', states);
    }
    const counts: Record<string, number> = Object.create(null);
    for (const [state, count] of Object.entries(states)) {
      if (!STATE_NAME.test(state)) {
        throw new InputError(`${groupField}.${state}`, 'a schedule state such as ENABLED or DISABLED', state);
      }
      counts[state] = readCount(`${groupField}.${state}`, count);
    }
    groups[group] = counts;
  }
  return groups;
}
