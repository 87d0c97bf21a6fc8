// The sweep's invoke payload (`sls invoke -f sweep --data '{...}'`), validated strictly before any AWS
// call. Unknown keys are rejected by name: a typo in `dryRun` must never turn into a real run. The
// sweep's own hand-off to a fresh invocation, `{ continuation: {...} }`, is validated just as strictly.

import * as v from 'valibot';
import { InputError } from '../errors.ts';
import { isRecord, isScheduledEvent, readExact, rejectUnknownFields, UnknownFieldError } from '../payload.ts';
import { SkipReason } from '../schedule/decide.ts';
import { NAME_FORM, NAME_PATTERN } from '../schedule/name.ts';
import { count, exactObject, flag, isoInstant, parseInput, seconds, text, wholeNumber } from '../validate.ts';
import { COUNT_FIELDS, KEPT_FIELDS, readTallies, serializeTallies } from './ledger.ts';
import type { GroupProgress, SweepCounts, SweepCursor, SweepSnapshot } from './model.ts';

export { UnknownFieldError };

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
  /** Name prefixes never to delete in this run, in addition to SWEEP_PROTECT_PREFIXES. */
  protectPrefixes?: string[];
  /** Overrides SWEEP_CLOUDFORMATION_OWNED for this run: `keep` or `sweep` finished CloudFormation-owned schedules. */
  cloudFormationOwned?: 'keep' | 'sweep';
}

export const PAYLOAD_FIELDS = [
  'dryRun',
  'groups',
  'namePrefix',
  'maxDeletes',
  'graceMinutes',
  'keepDisabled',
  'fullLookup',
  'protectPrefixes',
  'cloudFormationOwned',
] as const;

/** An account holds at most 500 schedule groups by default; more names than that is a mistake. */
const MAX_GROUPS = 500;
const MAX_GRACE_MINUTES = 10_080;
const GROUPS_FORM = `a non-empty array of up to ${MAX_GROUPS} schedule group names (leave it out to sweep every group)`;
/** At most this many protected prefixes in one payload. */
export const MAX_PROTECT_PREFIXES = 100;
const PREFIXES_FORM = `a non-empty array of up to ${MAX_PROTECT_PREFIXES} schedule name prefixes (${NAME_FORM})`;

/** Each field a manual run may set, with its rule; a field left out takes the configured default. */
const requestSchema = v.strictObject({
  dryRun: v.optional(flag),
  groups: v.optional(
    v.pipe(
      v.array(text(NAME_PATTERN, `a schedule group name (${NAME_FORM})`), GROUPS_FORM),
      v.minLength(1, GROUPS_FORM),
      v.maxLength(MAX_GROUPS, GROUPS_FORM),
    ),
  ),
  namePrefix: v.optional(text(NAME_PATTERN, `a schedule name prefix (${NAME_FORM})`)),
  maxDeletes: v.optional(wholeNumber(1, Number.MAX_SAFE_INTEGER)),
  graceMinutes: v.optional(wholeNumber(0, MAX_GRACE_MINUTES)),
  keepDisabled: v.optional(flag),
  fullLookup: v.optional(flag),
  protectPrefixes: v.optional(
    v.pipe(
      v.array(text(NAME_PATTERN, `a schedule name prefix (${NAME_FORM})`), PREFIXES_FORM),
      v.minLength(1, PREFIXES_FORM),
      v.maxLength(MAX_PROTECT_PREFIXES, PREFIXES_FORM),
    ),
  ),
  cloudFormationOwned: v.optional(v.picklist(['keep', 'sweep'], "'keep' or 'sweep'")),
});

/**
 * Turns an invoke event into a SweepRequest. The EventBridge scheduled event that triggers the
 * regular run (matched in every field), and an empty or missing payload, mean "the configured defaults".
 */
export function parseSweepPayload(event: unknown): SweepRequest {
  if (event === undefined || event === null || event === '') return {};
  if (!isRecord(event)) {
    throw new InputError('sweep payload', `a JSON object with fields ${PAYLOAD_FIELDS.join(', ')}`, event);
  }
  if (isScheduledEvent(event)) return {};
  rejectUnknownFields(event, PAYLOAD_FIELDS, 'sweep payload');
  const parsed = parseInput(requestSchema, event, '');
  const request: SweepRequest = {};
  for (const field of PAYLOAD_FIELDS) {
    if (parsed[field] !== undefined) Object.assign(request, { [field]: parsed[field] });
  }
  if (request.groups) {
    // A group named twice would be swept twice.
    const index = request.groups.findIndex((name, at) => request.groups?.indexOf(name) !== at);
    if (index !== -1)
      throw new InputError(`groups[${index}]`, 'each group named once', request.groups[index]);
  }
  if (request.protectPrefixes) {
    const index = request.protectPrefixes.findIndex(
      (prefix, at) => request.protectPrefixes?.indexOf(prefix) !== at,
    );
    if (index !== -1)
      throw new InputError(
        `protectPrefixes[${index}]`,
        'each prefix named once',
        request.protectPrefixes[index],
      );
  }
  return request;
}

/**
 * Where an unfinished sweep stands, handed by one invocation to the next: everything needed to go on
 * from the cursor and to report the whole sweep at the end. Internal: only the sweep itself sends it.
 */
export interface SweepContinuation extends SweepSnapshot {
  /** The run that holds the lease; a continuation whose run lost the lease stops. */
  runId: string;
  /** This invocation's number in the run: 2 for the first continuation. */
  invocation: number;
  /** ISO 8601, when the run's first invocation began. */
  startedAt: string;
  /** The request the run began with, applied again by every invocation. */
  request: SweepRequest;
  /**
   * The run's settings fingerprint (src/sweep/checkpoint.ts, settingsFingerprint): the next invocation
   * goes on only under the same settings, since the cursor names a place in the run's list of groups.
   * Absent only in a continuation handed on before it was carried, which is refused like one with
   * other settings.
   */
  settings?: string;
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
  'tallies',
  'requests',
  'throttled',
  'durationSeconds',
  'settings',
] as const;

const GROUP_PROGRESS_FIELDS = [
  'seen',
  'removed',
  'fromFirstPage',
  'listed',
  'unprocessed',
  'kept',
] as const satisfies readonly (keyof GroupProgress)[];

const REQUEST_FIELDS = ['ListSchedules', 'GetSchedule', 'DeleteSchedule', 'rereads'] as const;
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

const reasons = Object.values(SkipReason);
/** Schedule ARNs are at most 1,600 characters (API model). */
const MAX_ARN_LENGTH = 1_600;
/**
 * A cursor skips what was done on the pages it resumes: at most MAX_PAGES_SPANNED (8) pages of 100,
 * since the page loop lists no further while the pages from the first one not settled span 8 (one
 * slow item holds every page after its own). 1,000 ARNs of at most about 180 characters (group and
 * name are at most 64 each) keep a continuation under Lambda's 256 KB asynchronous payload limit.
 */
export const MAX_SKIPPED_ARNS = 1_000;

/** Each field of a continuation but the request and the group progress, which are read on their own. */
const continuationSchema = exactObject(
  {
    runId: text(RUN_ID_PATTERN, 'a run id (1-64 of 0-9 a-z A-Z -)'),
    invocation: wholeNumber(2, MAX_INVOCATIONS),
    startedAt: isoInstant,
    request: v.unknown(),
    cursor: exactObject(
      {
        groupIndex: wholeNumber(0, MAX_TRACKED_GROUPS),
        nextToken: v.optional(
          v.pipe(
            v.string('a ListSchedules NextToken'),
            v.minLength(1, 'a ListSchedules NextToken'),
            v.maxLength(MAX_TOKEN_LENGTH, 'a ListSchedules NextToken'),
          ),
        ),
        skip: v.optional(
          v.pipe(
            v.array(
              v.pipe(
                v.string('schedule ARNs'),
                v.minLength(1, 'schedule ARNs'),
                v.maxLength(MAX_ARN_LENGTH, 'schedule ARNs'),
              ),
              'a list of schedule ARNs already done',
            ),
            v.maxLength(MAX_SKIPPED_ARNS, `at most ${MAX_SKIPPED_ARNS} schedule ARNs`),
          ),
        ),
      },
      'a cursor {groupIndex, nextToken, skip}',
    ),
    counts: exactObject(
      {
        ...(Object.fromEntries(COUNT_FIELDS.map((field) => [field, count])) as Record<
          (typeof COUNT_FIELDS)[number],
          typeof count
        >),
        skipped: exactObject(
          Object.fromEntries(reasons.map((reason) => [reason, v.optional(count)])) as Record<
            SkipReason,
            v.OptionalSchema<typeof count, undefined>
          >,
          'counts of skipped schedules by reason',
        ),
        // Only on a sweep resumed from a checkpoint (src/sweep/checkpoint.ts).
        deletesUncounted: v.optional(count),
      },
      `an object of counts (${COUNT_FIELDS.join(', ')}, skipped, and deletesUncounted after a resume)`,
    ),
    progress: exactObject(
      { groups: v.unknown(), fromStart: flag },
      'an object with fields groups, fromStart',
    ),
    // Read on its own (readTallies), with the invariants a tally keeps.
    tallies: v.unknown(),
    requests: exactObject(
      Object.fromEntries(REQUEST_FIELDS.map((name) => [name, count])) as Record<
        (typeof REQUEST_FIELDS)[number],
        typeof count
      >,
      `an object of request counts (${REQUEST_FIELDS.join(', ')})`,
    ),
    throttled: count,
    durationSeconds: seconds,
    settings: v.optional(v.pipe(v.string('a SHA-256 in hex'), v.regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex'))),
  },
  `a JSON object with fields ${CONTINUATION_FIELDS.join(', ')}`,
);

const keptSchema = exactObject(
  {
    ...(Object.fromEntries(KEPT_FIELDS.map((field) => [field, v.optional(count)])) as Record<
      (typeof KEPT_FIELDS)[number],
      v.OptionalSchema<typeof count, undefined>
    >),
    skipped: v.optional(
      exactObject(
        Object.fromEntries(reasons.map((reason) => [reason, v.optional(count)])) as Record<
          SkipReason,
          v.OptionalSchema<typeof count, undefined>
        >,
        'counts of kept skipped schedules by reason',
      ),
    ),
  },
  `an object of counts of kept schedules (${KEPT_FIELDS.join(', ')}, skipped)`,
);

const groupProgressSchema = exactObject(
  {
    seen: count,
    removed: count,
    fromFirstPage: flag,
    listed: flag,
    unprocessed: flag,
    kept: v.optional(keptSchema),
  },
  `an object with fields ${GROUP_PROGRESS_FIELDS.join(', ')}`,
);

function readContinuation(value: unknown): SweepContinuation {
  const record = readExact('continuation', value, CONTINUATION_FIELDS, continuationSchema);
  const cursor: SweepCursor = {
    groupIndex: record.cursor.groupIndex,
    ...(record.cursor.nextToken === undefined ? {} : { nextToken: record.cursor.nextToken }),
    ...(record.cursor.skip === undefined ? {} : { skip: record.cursor.skip }),
  };
  const skipped: Record<string, number> = {};
  for (const [reason, value] of Object.entries(record.counts.skipped))
    if (value !== undefined) skipped[reason] = value;
  return {
    runId: record.runId,
    invocation: record.invocation,
    startedAt: record.startedAt,
    request: readCarriedRequest(record.request),
    cursor,
    counts: withoutUndefined({ ...record.counts, skipped }) as SweepCounts,
    progress: { groups: readGroupProgress(record.progress.groups), fromStart: record.progress.fromStart },
    // Read and written back under one key, so its listing part stays apart.
    tallies: serializeTallies(readTallies(record.tallies, 'continuation.tallies', '*'), '*'),
    requests: record.requests,
    throttled: record.throttled,
    durationSeconds: record.durationSeconds,
    ...(record.settings === undefined ? {} : { settings: record.settings }),
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

/**
 * Progress by group name. Read by hand rather than with a valibot record: a group may be named
 * "__proto__", which valibot's record leaves out of its output, and a group left out would be swept
 * again from the start. The object has no prototype, so assigning that key records the group.
 */
function readGroupProgress(value: unknown): Record<string, GroupProgress> {
  const field = 'continuation.progress.groups';
  if (!isRecord(value) || Object.keys(value).length > MAX_TRACKED_GROUPS) {
    throw new InputError(field, 'an object of group progress by group name', value);
  }
  const groups: Record<string, GroupProgress> = Object.create(null);
  for (const [name, entry] of Object.entries(value)) {
    const entryField = `${field}.${name}`;
    if (!NAME_PATTERN.test(name)) {
      throw new InputError(entryField, `a schedule group name (${NAME_FORM})`, name);
    }
    groups[name] = { ...readExact(entryField, entry, GROUP_PROGRESS_FIELDS, groupProgressSchema) };
  }
  return groups;
}

/** The object without its undefined fields (an optional count left out stays left out). */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
