// The sweep's invoke payload (`sls invoke -f sweep --data '{...}'`), validated strictly before any AWS
// call. Unknown keys are rejected by name: a typo in `dryRun` must never turn into a real run. The
// sweep's own hand-off to a fresh invocation, `{ continuation: {...} }`, is validated just as strictly.
import { InputError } from '../errors.ts';
import { isRecord, isScheduledEvent, readBoolean, readCount, readExact, readInteger } from '../payload.ts';
import { SkipReason } from '../schedule/decide.ts';
import { GROUP_NAME_PATTERN } from './config.ts';
import type { GroupProgress, SweepCounts, SweepCursor, SweepProgress, SweepSummary } from './sweep.ts';

/** What a manual run may override; anything left out takes the configured default. */
export interface SweepRequest {
  dryRun?: boolean;
  groups?: string[];
  namePrefix?: string;
  maxDeletes?: number;
  graceMinutes?: number;
  keepDisabled?: boolean;
  /** Look every schedule up, ignoring (and refreshing) what earlier sweeps remembered. */
  fullLookup?: boolean;
}

export const PAYLOAD_FIELDS = [
  'dryRun',
  'groups',
  'namePrefix',
  'maxDeletes',
  'graceMinutes',
  'keepDisabled',
  'fullLookup',
] as const;

const NAME_FORM = '1-64 characters of 0-9 a-z A-Z - _ .';
/** An account holds at most 500 schedule groups by default; more names than that is a mistake. */
const MAX_GROUPS = 500;
const MAX_GRACE_MINUTES = 10_080;

/** A payload key the sweep does not know. The message lists the keys it does know. */
export class UnknownFieldError extends InputError {
  constructor(readonly fields: string[]) {
    super(fields.join(', '), `one of ${PAYLOAD_FIELDS.join(', ')}`);
    const quoted = fields.map((field) => `'${field}'${suggestion(field)}`).join(', ');
    this.message = `Unknown field${fields.length > 1 ? 's' : ''} ${quoted} in sweep payload; allowed: ${PAYLOAD_FIELDS.join(', ')}`;
  }
}

function suggestion(field: string): string {
  const match = PAYLOAD_FIELDS.find((known) => known.toLowerCase() === field.toLowerCase());
  return match ? ` (did you mean '${match}'?)` : '';
}

/**
 * Turns an invoke event into a SweepRequest. The EventBridge scheduled event that triggers the
 * regular run, and an empty or missing payload, both mean "the configured defaults".
 */
export function parseSweepPayload(event: unknown): SweepRequest {
  if (event === undefined || event === null || event === '') return {};
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new InputError('sweep payload', `a JSON object with fields ${PAYLOAD_FIELDS.join(', ')}`, event);
  }
  const record = event as Record<string, unknown>;
  if (isScheduledEvent(record)) return {};

  const unknown = Object.keys(record).filter((key) => !(PAYLOAD_FIELDS as readonly string[]).includes(key));
  if (unknown.length > 0) throw new UnknownFieldError(unknown);

  const request: SweepRequest = {};
  if (record.dryRun !== undefined) request.dryRun = readBoolean('dryRun', record.dryRun);
  if (record.keepDisabled !== undefined)
    request.keepDisabled = readBoolean('keepDisabled', record.keepDisabled);
  if (record.fullLookup !== undefined) request.fullLookup = readBoolean('fullLookup', record.fullLookup);
  if (record.groups !== undefined) request.groups = readGroups(record.groups);
  if (record.namePrefix !== undefined) request.namePrefix = readNamePrefix(record.namePrefix);
  if (record.maxDeletes !== undefined) {
    request.maxDeletes = readInteger('maxDeletes', record.maxDeletes, 1, Number.MAX_SAFE_INTEGER);
  }
  if (record.graceMinutes !== undefined) {
    request.graceMinutes = readInteger('graceMinutes', record.graceMinutes, 0, MAX_GRACE_MINUTES);
  }
  return request;
}

function readGroups(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_GROUPS) {
    throw new InputError(
      'groups',
      `a non-empty array of up to ${MAX_GROUPS} schedule group names (leave it out to sweep every group)`,
      value,
    );
  }
  const seen = new Set<string>();
  for (const [index, name] of value.entries()) {
    if (typeof name !== 'string' || !GROUP_NAME_PATTERN.test(name)) {
      throw new InputError(`groups[${index}]`, `a schedule group name (${NAME_FORM})`, name);
    }
    if (seen.has(name)) throw new InputError(`groups[${index}]`, 'each group named once', name);
    seen.add(name);
  }
  return [...seen];
}

function readNamePrefix(value: unknown): string {
  if (typeof value !== 'string' || !GROUP_NAME_PATTERN.test(value)) {
    throw new InputError('namePrefix', `a schedule name prefix (${NAME_FORM})`, value);
  }
  return value;
}

/**
 * Where an unfinished sweep stands, handed by one invocation to the next: everything needed to go on
 * from the cursor and to report the whole sweep at the end. Internal: only the sweep itself sends it.
 */
export interface SweepContinuation {
  /** The run that holds the lease; a continuation whose run lost the lease stops. */
  runId: string;
  /** This invocation's number in the run: 2 for the first continuation. */
  invocation: number;
  /** ISO 8601, when the run's first invocation began. */
  startedAt: string;
  /** The request the run began with, applied again by every invocation. */
  request: SweepRequest;
  cursor: SweepCursor;
  /** Totals so far; the next invocation starts from them. */
  counts: SweepCounts;
  progress: SweepProgress;
  requests: SweepSummary['requests'];
  throttled: number;
  /** Seconds spent sweeping so far, over all invocations. */
  durationSeconds: number;
}

export type SweepEvent =
  | { kind: 'start'; request: SweepRequest }
  | { kind: 'continuation'; continuation: SweepContinuation };

/** More invocations than this means something is wrong (a day of 15-minute invocations is 96). */
export const MAX_INVOCATIONS = 200;
const MAX_TRACKED_GROUPS = 10_000;
const CONTINUATION_FIELDS = [
  'runId',
  'invocation',
  'startedAt',
  'request',
  'cursor',
  'counts',
  'progress',
  'requests',
  'throttled',
  'durationSeconds',
] as const;
const COUNT_FIELDS = [
  'scanned',
  'finished',
  'deleted',
  'wouldDelete',
  'alreadyGone',
  'stuck',
  'pending',
  'recurring',
  'skipped',
  'failed',
  'recalled',
] as const satisfies readonly (keyof SweepCounts)[];
const GROUP_PROGRESS_FIELDS = [
  'seen',
  'removed',
  'fromFirstPage',
  'listed',
  'unprocessed',
] as const satisfies readonly (keyof GroupProgress)[];
const REQUEST_FIELDS = ['ListSchedules', 'GetSchedule', 'DeleteSchedule'] as const;
const RUN_ID_PATTERN = /^[0-9a-zA-Z-]{1,64}$/;
const MAX_TOKEN_LENGTH = 8192;

/** Either a request (scheduled event, manual invoke) or the sweep's own continuation. */
export function parseSweepEvent(event: unknown): SweepEvent {
  if (isRecord(event) && 'continuation' in event) {
    const others = Object.keys(event).filter((key) => key !== 'continuation');
    if (others.length > 0) {
      throw new InputError('sweep payload', 'a continuation with no other field beside it', others);
    }
    return { kind: 'continuation', continuation: readContinuation(event.continuation) };
  }
  return { kind: 'start', request: parseSweepPayload(event) };
}

function readContinuation(value: unknown): SweepContinuation {
  const record = readExact('continuation', value, CONTINUATION_FIELDS);
  const runId = record.runId;
  if (typeof runId !== 'string' || !RUN_ID_PATTERN.test(runId)) {
    throw new InputError('continuation.runId', 'a run id (1-64 of 0-9 a-z A-Z -)', runId);
  }
  const startedAt = record.startedAt;
  if (typeof startedAt !== 'string' || Number.isNaN(Date.parse(startedAt))) {
    throw new InputError('continuation.startedAt', 'an ISO 8601 date-time', startedAt);
  }
  return {
    runId,
    invocation: readInteger('continuation.invocation', record.invocation, 2, MAX_INVOCATIONS),
    startedAt,
    request: readCarriedRequest(record.request),
    cursor: readCursor(record.cursor),
    counts: readCounts(record.counts),
    progress: readProgress(record.progress),
    requests: Object.fromEntries(
      Object.entries(readExact('continuation.requests', record.requests, REQUEST_FIELDS)).map(
        ([name, count]) => [name, readCount(`continuation.requests.${name}`, count)],
      ),
    ) as SweepContinuation['requests'],
    throttled: readCount('continuation.throttled', record.throttled),
    durationSeconds: readSeconds(record.durationSeconds),
  };
}

/** The original request, checked by the same rules as a manual one; errors name the nested field. */
function readCarriedRequest(value: unknown): SweepRequest {
  if (!isRecord(value)) throw new InputError('continuation.request', 'a JSON object', value);
  try {
    return parseSweepPayload(value);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    throw new InputError(`continuation.request.${error.field}`, error.expected, error.got);
  }
}

function readCursor(value: unknown): SweepCursor {
  const record = readExact('continuation.cursor', value, ['groupIndex', 'nextToken'], ['nextToken']);
  const groupIndex = readInteger('continuation.cursor.groupIndex', record.groupIndex, 0, MAX_TRACKED_GROUPS);
  const token = record.nextToken;
  if (token === undefined) return { groupIndex };
  if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_LENGTH) {
    throw new InputError('continuation.cursor.nextToken', 'a ListSchedules NextToken', token);
  }
  return { groupIndex, nextToken: token };
}

function readCounts(value: unknown): SweepCounts {
  const record = readExact('continuation.counts', value, COUNT_FIELDS);
  const reasons = Object.values(SkipReason);
  const skipped = readExact('continuation.counts.skipped', record.skipped, reasons, reasons);
  const counts: Record<string, unknown> = {};
  for (const field of COUNT_FIELDS) {
    if (field !== 'skipped') counts[field] = readCount(`continuation.counts.${field}`, record[field]);
  }
  counts.skipped = Object.fromEntries(
    Object.entries(skipped).map(([reason, count]) => [
      reason,
      readCount(`continuation.counts.skipped.${reason}`, count),
    ]),
  );
  return counts as unknown as SweepCounts;
}

function readProgress(value: unknown): SweepProgress {
  const record = readExact('continuation.progress', value, ['groups', 'fromStart']);
  const fromStart = readBoolean('continuation.progress.fromStart', record.fromStart);
  if (!isRecord(record.groups) || Object.keys(record.groups).length > MAX_TRACKED_GROUPS) {
    throw new InputError(
      'continuation.progress.groups',
      'an object of group progress by group name',
      record.groups,
    );
  }
  // No prototype: a group may be named "__proto__", and assigning that key on a plain object
  // would set the object's prototype instead of recording the group.
  const groups: Record<string, GroupProgress> = Object.create(null);
  for (const [name, entry] of Object.entries(record.groups)) {
    const field = `continuation.progress.groups.${name}`;
    if (!GROUP_NAME_PATTERN.test(name))
      throw new InputError(field, `a schedule group name (${NAME_FORM})`, name);
    const progress = readExact(field, entry, GROUP_PROGRESS_FIELDS);
    groups[name] = {
      seen: readCount(`${field}.seen`, progress.seen),
      removed: readCount(`${field}.removed`, progress.removed),
      fromFirstPage: readBoolean(`${field}.fromFirstPage`, progress.fromFirstPage),
      listed: readBoolean(`${field}.listed`, progress.listed),
      unprocessed: readBoolean(`${field}.unprocessed`, progress.unprocessed),
    };
  }
  return { groups, fromStart };
}

function readSeconds(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InputError('continuation.durationSeconds', 'a number of seconds, 0 or more', value);
  }
  return value;
}
