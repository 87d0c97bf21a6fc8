// Restoring schedules from their tombstones, in two steps. The dry run (the default) is the plan: one
// line per tombstone saying what `apply` would do to it, and a digest of that plan. `apply` takes the
// digest, works the plan out again, and refuses (creating nothing) unless it is the same; then it
// protects what `keep` protects, waits until no running sweep can hold a protection read older than
// those protections, and recreates each schedule exactly as it was (same name, group and definition,
// or a new time with `at`), idempotently (a ClientToken derived from the tombstone), never
// overwriting a schedule that exists again.
//
// Tombstones are streamed, a DynamoDB page at a time, twice with `apply` (plan, then create); what is
// held is the plan: one small entry per matched tombstone (its key, SHA-256, outcome, the action and
// the new time; about 1 KB of heap, measured 0.92 KB with 30-character names), never a definition or
// a target.
//
// Before anything else, each tombstone's proof of origin is verified against the sweep's KMS HMAC key
// (tombstoneVerifier, below; src/tombstone/origin.ts), in the plan and again in `apply`: one that does
// not verify is `unverified` on its line and never recreated or protected.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleInput,
  GetScheduleCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { isNotFound } from '../aws/budget.ts';
import { clip, InputError } from '../errors.ts';
import { PROTECTION_MAX_AGE_MS, protectNames } from '../protect/protection.ts';
import { safeError } from '../redact.ts';
import { type LocalDateTime, parseExpression, parseLocalDateTime } from '../schedule/expression.ts';
import { answersFor, scheduleArnIn } from '../schedule/name.ts';
import { resolveLocalTime, resolveZone } from '../schedule/timezone.ts';
import { createOriginVerifier, type MacKey, type OriginVerdict, tableArnFor } from './origin.ts';
import {
  definitionOf,
  findTombstones,
  TableNotFoundError,
  type Tombstone,
  type TombstoneQuery,
} from './query.ts';
import { type ScheduleDefinition, sha256 } from './store.ts';

export interface RestoreDeps {
  scheduler: SchedulerClient;
  dynamodb: DynamoDBClient;
  tombstoneTable: string;
  /** The sweep's state table, where `keep` records protected names. Needed only with `keep`. */
  stateTable?: string;
  /**
   * The sweep's tombstone MAC key, by its ARN (the stack's TombstoneMacKeyArn) or its alias's ARN:
   * VerifyMac before anything else. Its partition, Region and account name the table's identity.
   */
  mac: MacKey;
  clock: () => Date;
  /** Waits `ms` milliseconds (the wait after protecting); a timer by default. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Told of each pointer item (`pk|sk`) that is not where the store puts a pointer to the tombstone
   * it names, or names no key the store could write: not followed (findTombstones). Only a writer of
   * the table can have put it there.
   */
  onMisplacedPointer?: (pointer: string) => void;
}

export interface RestoreOptions {
  /** false (the default): only work out the plan and show it. */
  apply: boolean;
  /** With `apply`: the digest the dry run printed. `apply` refuses unless the plan is still that. */
  plan?: string;
  /** A new time for one-time schedules whose time has passed: wall clock in `zone`. */
  at?: { local: string; zone: string };
  /** Recreate one-time schedules whose time has passed as they were, and protect them from the sweep. */
  keep?: boolean;
  /** Also restore tombstones whose delete removed nothing (outcomes gone, refused, notSent). */
  includeNotDeleted?: boolean;
  /** Also restore tombstones whose delete may or may not have applied (outcomes unknown, pending). */
  includeUnknown?: boolean;
}

/** The one word each tombstone's line starts with (README: Restoring a schedule). */
export const RestoreAction = {
  /** Dry run: `apply` would create it (and protect it, with `keep`). */
  wouldRestore: 'wouldRestore',
  /** Created (and protected first, with `keep`). */
  restored: 'restored',
  /** A schedule identical to the tombstone's exists: nothing to create (with `keep`, protected). */
  alreadyRestored: 'alreadyRestored',
  /** A different schedule of that name exists again: never overwritten, never protected. */
  exists: 'exists',
  /** A one-time schedule whose time has passed (needs `at` or `keep`), or a delete that may not have applied. */
  needsChoice: 'needsChoice',
  /** Its delete removed nothing, or was never sent or applied (gone, refused, notSent): left alone. */
  leftAlone: 'leftAlone',
  /** An older tombstone of a schedule whose newer tombstone this run handles. */
  superseded: 'superseded',
  /** With `apply`: a tombstone that appeared or changed after the plan was checked: nothing done. */
  notInPlan: 'notInPlan',
  /**
   * Its MAC does not verify (none, forged, altered since it was written, copied from another table or
   * stack, or VerifyMac denied or failing): never recreated or protected.
   */
  unverified: 'unverified',
  /** Not restorable as stored (SHA-256 mismatch, unreadable, an outcome not understood), or a request failed. */
  failed: 'failed',
} as const;
export type RestoreAction = (typeof RestoreAction)[keyof typeof RestoreAction];

/** What `apply` does to a tombstone: create its schedule, protect its name (keep), both, or nothing. */
export type ApplyStep = 'protect' | 'create';

/** One tombstone's line. Carries no target content (no Input): it is printed and logged. */
export interface RestoreResult {
  action: RestoreAction;
  key: string;
  group: string;
  name: string;
  deletedAt: string;
  /** What became of the sweep's delete (the tombstone's outcome, clipped as stored). */
  outcome: string;
  /** The expression and zone the schedule is (or would be) created with; zone absent: none stored. */
  expression?: string;
  zone?: string;
  /** The schedule's State as stored (ENABLED or DISABLED). */
  state?: string;
  targetArn?: string;
  roleArn?: string;
  /** Dry run: what `apply` would do; apply: what it did. In order (protect comes before create). */
  steps: ApplyStep[];
  detail?: string;
}

export type RestoreSummary = Record<RestoreAction, number> & { found: number };

/** The plan: its digest, its counts, and one entry per tombstone it matched, by key. */
export interface RestorePlan {
  digest: string;
  summary: RestoreSummary;
  entries: Map<string, PlanEntry>;
}

/** What the plan holds per tombstone: enough to check it again and to act, never a definition. */
export interface PlanEntry {
  group: string;
  name: string;
  sha256: string;
  outcome: string;
  action: RestoreAction;
  /** The expression and zone `apply` creates the schedule with ('' zone: none). */
  create?: { expression: string; zone: string };
  protect: boolean;
  detail?: string;
}

/** Outcomes whose delete removed nothing: the sweep did not delete the schedule. */
const NOT_DELETED: Record<string, string> = {
  gone: 'its delete was answered 404: the schedule was deleted by someone else, not by the sweep',
  refused: 'its delete was refused by the service (4xx): the sweep did not delete it',
  notSent: 'its delete was never sent: the sweep did not delete it',
};
/** Outcomes whose delete may or may not have applied. */
const UNCERTAIN: Record<string, string> = {
  unknown: 'its delete was sent but never settled: it may or may not have been deleted by the sweep',
  pending:
    'its delete was never settled (the sweep stopped): it may or may not have been deleted by the sweep',
};

/** Clip lengths for what a line shows: ARNs are no customer data, but a line stays readable. */
const ARN_CLIP = 200;
const TEXT_CLIP = 120;
/** Names protected per protectNames call (a progress line after each). */
const PROTECT_CHUNK = 1000;

/** Checks the options before anything is read: a new time must be a wall-clock time in a known zone. */
export function checkRestoreOptions(options: RestoreOptions, now: Date): void {
  if (options.at && options.keep) throw new InputError('--keep', 'either --at or --keep, not both');
  if (options.plan !== undefined && !options.apply) {
    throw new InputError('--plan', '--apply as well (the dry run prints the plan digest)');
  }
  if (options.plan !== undefined && !/^[0-9a-f]{64}$/.test(options.plan)) {
    throw new InputError('--plan', 'the 64 hex characters the dry run printed after "plan"', options.plan);
  }
  if (options.apply && options.plan === undefined) {
    throw new InputError(
      '--plan',
      'the plan digest the dry run printed (run the same command without --apply first, review its lines, then add --apply --plan <digest>)',
    );
  }
  if (options.at) {
    if (!parseLocalDateTime(options.at.local)) {
      throw new InputError(
        '--at',
        'a wall-clock time yyyy-mm-ddThh:mm:ss (no offset; the zone is --zone)',
        options.at.local,
      );
    }
    const zone = resolveZone(options.at.zone);
    if (!zone.ok)
      throw new InputError('--zone', 'an IANA time zone name (e.g. Europe/Paris) or UTC', options.at.zone);
    const instant = instantOf(parseLocalDateTime(options.at.local) as LocalDateTime, options.at.zone);
    if (instant === undefined)
      throw new InputError('--at', 'a time that exists in --zone (not inside a DST gap)', options.at.local);
    if (instant.getTime() <= now.getTime() + 60_000) {
      throw new InputError(
        '--at',
        'a time at least a minute in the future',
        `${options.at.local} ${options.at.zone}`,
      );
    }
  }
}

const emptySummary = () =>
  Object.fromEntries([...Object.values(RestoreAction), 'found'].map((name) => [name, 0])) as RestoreSummary;

/**
 * Works out the plan for the tombstones the query matches, streaming them, and reports each line
 * through `onResult` (the dry run's output). Reads only: GetSchedule per schedule, no write.
 * Throws InputError for bad options, TableNotFoundError when the tombstone table does not exist.
 */
export async function planRestore(
  deps: RestoreDeps,
  query: TombstoneQuery,
  options: RestoreOptions,
  onResult: (result: RestoreResult) => void = () => {},
  verify: TombstoneVerifier = tombstoneVerifier(deps),
): Promise<RestorePlan> {
  checkRestoreOptions(options, deps.clock());
  const summary = emptySummary();
  const entries = new Map<string, PlanEntry>();
  const handled = new Set<string>();
  for await (const tombstone of tombstonesOf(deps, query)) {
    // The stream yields each schedule's tombstones newest first (query.ts), so the first one met
    // is the latest definition; a key met twice (a retried page) is one tombstone.
    if (entries.has(tombstone.key)) continue;
    const { result, entry } = await planOne(deps, tombstone, options, handled, verify);
    entries.set(tombstone.key, entry);
    summary.found += 1;
    summary[result.action] += 1;
    onResult(result);
  }
  const region = await deps.dynamodb.config.region();
  return { digest: planDigest(deps, region, entries), summary, entries };
}

/**
 * The plan's digest: SHA-256 (hex) over a header (table, region, and the state table when anything
 * is protected) and one line per tombstone, sorted by key: key, SHA-256, outcome, action, and what
 * `apply` does (create with which expression and zone, protect).
 */
export function planDigest(
  deps: Pick<RestoreDeps, 'tombstoneTable' | 'stateTable'>,
  region: string,
  entries: ReadonlyMap<string, PlanEntry>,
): string {
  const protects = [...entries.values()].some((entry) => entry.protect);
  const lines = [
    `restore plan 1\t${deps.tombstoneTable}\t${region}\t${protects ? (deps.stateTable ?? '') : '-'}`,
    ...[...entries]
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
      .map(([key, entry]) =>
        [
          key,
          entry.sha256,
          entry.outcome,
          entry.action,
          entry.create ? `create ${entry.create.expression} ${entry.create.zone}` : '-',
          entry.protect ? 'protect' : '-',
        ].join('\t'),
      ),
  ];
  return sha256(lines.join('\n'));
}

/** A phase of `apply` the operator is told about (not one tombstone's line). */
export type RestoreProgress =
  /** `done` of `total` names of `group` protected so far. */
  | { phase: 'protected'; group: string; done: number; total: number }
  /** Waiting `ms` milliseconds (PROTECTION_MAX_AGE_MS) after protecting, before the first create. */
  | { phase: 'waiting'; ms: number };
export type ApplyProgress = (progress: RestoreProgress) => void;

/**
 * Applies a plan the dry run showed: works it out again and throws InputError('--plan') when its
 * digest is not `options.plan` (nothing written); then protects every name the plan protects, waits
 * PROTECTION_MAX_AGE_MS when anything is then created, and creates each planned schedule. Reports
 * each tombstone's line through `onResult`. One tombstone's failure is counted in `failed`, never
 * thrown; a failed protection write throws before anything is created.
 */
export async function applyRestore(
  deps: RestoreDeps,
  query: TombstoneQuery,
  options: RestoreOptions,
  onResult: (result: RestoreResult) => void = () => {},
  onProgress: ApplyProgress = () => {},
  onPlanned: (plan: RestorePlan) => void = () => {},
): Promise<{ plan: RestorePlan; summary: RestoreSummary }> {
  const verify = tombstoneVerifier(deps);
  const plan = await planRestore(deps, query, options, () => {}, verify);
  if (plan.digest !== options.plan) {
    throw new InputError(
      '--plan',
      `the digest of the plan as it is now (${plan.digest}): the tombstones, their outcomes or the schedules changed since that dry run. Nothing was created; run the dry run again and review it`,
      options.plan,
    );
  }
  onPlanned(plan);
  const protectedNames = await protectPlanned(deps, plan, onProgress);
  const creates = [...plan.entries.values()].filter((entry) => entry.create).length;
  if (protectedNames > 0 && creates > 0) {
    // A running sweep may have read this group's protections just before they were written; it reads
    // them again once its read is older than PROTECTION_MAX_AGE_MS (src/protect/protection.ts), so
    // after this wait no sweep can judge a schedule created below with a read older than its protection.
    onProgress({ phase: 'waiting', ms: PROTECTION_MAX_AGE_MS });
    await (deps.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(
      PROTECTION_MAX_AGE_MS,
    );
  }

  const summary = emptySummary();
  const report = (result: RestoreResult) => {
    summary.found += 1;
    summary[result.action] += 1;
    onResult(result);
  };
  const met = new Set<string>();
  for await (const tombstone of tombstonesOf(deps, query)) {
    if (met.has(tombstone.key)) continue;
    const entry = plan.entries.get(tombstone.key);
    const about = describeTombstone(tombstone);
    if (!entry || entry.sha256 !== tombstone.sha256 || entry.outcome !== tombstone.outcome) {
      report({
        ...about,
        action: RestoreAction.notInPlan,
        detail: entry
          ? `it changed after the plan was checked (outcome ${clip(tombstone.outcome)}, planned ${entry.outcome}): nothing done`
          : 'it appeared after the plan was checked: nothing done',
      });
      continue;
    }
    met.add(tombstone.key);
    // Verified again as read now (a signing key or batch already verified costs no second VerifyMac).
    const origin = await verify(tombstone);
    if (!origin.verified) {
      report({ ...about, action: RestoreAction.unverified, detail: `not recreated: ${origin.reason}` });
      continue;
    }
    report(await applyOne(deps, tombstone, entry, about));
  }
  // A planned tombstone not met again (expired by TTL in between): said, never silently dropped.
  for (const [key, entry] of plan.entries) {
    if (met.has(key)) continue;
    report({
      action: entry.create ? RestoreAction.failed : entry.action,
      key,
      group: entry.group,
      name: entry.name,
      deletedAt: '',
      outcome: entry.outcome,
      steps: entry.protect ? ['protect'] : [],
      detail: `its tombstone was not found again after the plan was checked${entry.create ? ': not created' : ''}`,
    });
  }
  return { plan, summary };
}

/** Checks a tombstone's proof of origin: its signature and key MAC, or its v1 MAC (origin.ts). Never throws. */
export type TombstoneVerifier = (tombstone: Tombstone) => Promise<OriginVerdict>;

/**
 * The verification step restore takes before it creates or protects anything: one verifier per plan
 * or apply, so the tombstones of one signing key (or one v1 batch) cost one VerifyMac.
 */
export function tombstoneVerifier(deps: Pick<RestoreDeps, 'mac' | 'tombstoneTable'>): TombstoneVerifier {
  const verify = createOriginVerifier(deps.mac, tableArnFor(deps.mac.keyId, deps.tombstoneTable));
  return (tombstone) => verify(tombstone.stored);
}

async function* tombstonesOf(deps: RestoreDeps, query: TombstoneQuery): AsyncGenerator<Tombstone> {
  yield* findTombstones(deps.dynamodb, deps.tombstoneTable, query, deps.clock, deps.onMisplacedPointer);
}

/**
 * Protects the names of the plan's entries that `keep` protects, per group, PROTECT_CHUNK at a time
 * through protectNames, with a progress line after each chunk. Returns how many. Throws
 * TableNotFoundError when the state table does not exist, and any other failed write.
 */
export async function protectPlanned(
  deps: Pick<RestoreDeps, 'dynamodb' | 'stateTable'>,
  plan: Pick<RestorePlan, 'entries'>,
  onProgress: ApplyProgress = () => {},
): Promise<number> {
  const byGroup = new Map<string, string[]>();
  for (const entry of plan.entries.values()) {
    if (!entry.protect) continue;
    const names = byGroup.get(entry.group) ?? [];
    names.push(entry.name);
    byGroup.set(entry.group, names);
  }
  if (byGroup.size === 0) return 0;
  const stateTable = deps.stateTable;
  if (!stateTable) {
    throw new InputError('--state-table', 'the sweep state table, where --keep records protected schedules');
  }
  let count = 0;
  for (const [group, names] of byGroup) {
    for (let start = 0; start < names.length; start += PROTECT_CHUNK) {
      const chunk = names.slice(start, start + PROTECT_CHUNK);
      try {
        await protectNames(deps.dynamodb, stateTable, group, chunk);
      } catch (error) {
        if (isNotFound(error)) {
          throw new TableNotFoundError('state', stateTable, await deps.dynamodb.config.region(), error);
        }
        throw error;
      }
      count += chunk.length;
      onProgress({ phase: 'protected', group, done: start + chunk.length, total: names.length });
    }
  }
  return count;
}

/** The line fields every tombstone has, whatever becomes of it (clipped; never target content). */
function describeTombstone(tombstone: Tombstone): Omit<RestoreResult, 'action'> {
  return {
    key: clip(tombstone.key, 300),
    group: clip(tombstone.group, 64),
    name: clip(tombstone.name, 64),
    deletedAt: clip(tombstone.deletedAt, 40),
    outcome: clip(tombstone.outcome, 20),
    steps: [],
  };
}

/** The fields a line shows of a definition (never Input or any other target content). */
function describeDefinition(definition: ScheduleDefinition, input?: CreateScheduleInput) {
  const expression = input?.ScheduleExpression ?? definition.ScheduleExpression;
  const zone = input ? input.ScheduleExpressionTimezone : definition.ScheduleExpressionTimezone;
  return {
    ...(expression !== undefined ? { expression: clip(String(expression), TEXT_CLIP) } : {}),
    ...(zone !== undefined ? { zone: clip(String(zone), 64) } : {}),
    ...(definition.State !== undefined ? { state: clip(String(definition.State), 20) } : {}),
    ...(definition.Target?.Arn !== undefined
      ? { targetArn: clip(String(definition.Target.Arn), ARN_CLIP) }
      : {}),
    ...(definition.Target?.RoleArn !== undefined
      ? { roleArn: clip(String(definition.Target.RoleArn), ARN_CLIP) }
      : {}),
  };
}

/** Reads a tombstone's definition when its body is intact; else says why not. */
function intactDefinition(tombstone: Tombstone): ScheduleDefinition | string {
  if (sha256(tombstone.body) !== tombstone.sha256) return 'the stored definition does not match its SHA-256';
  try {
    const definition = definitionOf(tombstone);
    if (!definition || typeof definition !== 'object') return 'the stored definition is not a JSON object';
    return definition;
  } catch {
    return 'the stored definition is not valid JSON';
  }
}

async function planOne(
  deps: RestoreDeps,
  tombstone: Tombstone,
  options: RestoreOptions,
  handled: Set<string>,
  verify: TombstoneVerifier,
): Promise<{ result: RestoreResult; entry: PlanEntry }> {
  const about = describeTombstone(tombstone);
  const done = (result: RestoreResult, extra: Partial<PlanEntry> = {}) => ({
    result,
    entry: {
      group: tombstone.group,
      name: tombstone.name,
      sha256: tombstone.sha256,
      outcome: tombstone.outcome,
      action: result.action,
      protect: false,
      ...(result.detail !== undefined ? { detail: result.detail } : {}),
      ...extra,
    },
  });
  // First, before anything is read or planned for it: an item the sweep did not write is refused,
  // and does not count as handled, so it cannot hide an older, genuine tombstone of that name.
  const origin = await verify(tombstone);
  if (!origin.verified) {
    return done({ ...about, action: RestoreAction.unverified, detail: `not recreated: ${origin.reason}` });
  }
  const identity = `${tombstone.group}/${tombstone.name}`;
  if (handled.has(identity)) {
    return done({
      ...about,
      action: RestoreAction.superseded,
      detail: 'a newer tombstone of this schedule came first',
    });
  }
  // A tombstone that fails its integrity check does not count as handled: it cannot hide an older,
  // intact tombstone of that schedule.
  const definition = intactDefinition(tombstone);
  if (typeof definition === 'string')
    return done({ ...about, action: RestoreAction.failed, detail: definition });
  handled.add(identity);
  const shown = { ...about, ...describeDefinition(definition) };

  const notDeleted = NOT_DELETED[tombstone.outcome];
  if (notDeleted !== undefined && !options.includeNotDeleted) {
    return done({
      ...shown,
      action: RestoreAction.leftAlone,
      detail: `${notDeleted}; --include-not-deleted restores it`,
    });
  }
  const uncertain = UNCERTAIN[tombstone.outcome];
  if (notDeleted === undefined && uncertain === undefined && tombstone.outcome !== 'deleted') {
    return done({
      ...shown,
      action: RestoreAction.failed,
      detail: `its outcome is not one restore understands (deleted, unknown, pending, gone, refused, notSent)`,
    });
  }

  try {
    const original = createInputOf(definition);
    const passed = hasPassed(definition, deps.clock());
    const input: CreateScheduleInput = { ...original };
    if (passed && options.at) {
      input.ScheduleExpression = `at(${options.at.local})`;
      input.ScheduleExpressionTimezone = options.at.zone;
    }
    const protect = passed && options.keep === true;
    const planned = { ...about, ...describeDefinition(definition, input) };

    // Looked up first: a schedule that exists again needs no choice, whatever its tombstone says.
    const existing = await lookUp(
      deps.scheduler,
      tombstone.group,
      tombstone.name,
      expectedArn(deps, tombstone),
    );
    if (existing) {
      const same = sameSchedule(createInputOf(existing), original, input);
      if (!same) {
        return done({
          ...planned,
          action: RestoreAction.exists,
          detail: 'a different schedule of this name exists: not overwritten, not protected',
        });
      }
      return done(
        {
          ...planned,
          ...describeDefinition(definition, createInputOf(existing)),
          action: RestoreAction.alreadyRestored,
          steps: protect ? ['protect'] : [],
          detail: `an identical schedule exists${same === 'newTime' ? ' (recreated earlier at a new time)' : ''}: nothing to create`,
        },
        { protect },
      );
    }
    const choices: string[] = [];
    if (uncertain !== undefined && !options.includeUnknown)
      choices.push(`${uncertain}: --include-unknown restores it`);
    if (passed && !options.at && !options.keep) {
      choices.push(
        'a one-time schedule whose time has passed: give --at <new time> --zone <zone>, or --keep',
      );
    }
    if (choices.length > 0) {
      return done({ ...planned, action: RestoreAction.needsChoice, detail: choices.join('; ') });
    }
    const create = {
      expression: input.ScheduleExpression ?? '',
      zone: input.ScheduleExpressionTimezone ?? '',
    };
    return done(
      {
        ...planned,
        action: RestoreAction.wouldRestore,
        steps: protect ? ['protect', 'create'] : ['create'],
        ...(notDeleted !== undefined || uncertain !== undefined
          ? { detail: (notDeleted ?? uncertain) as string }
          : {}),
      },
      { create, protect },
    );
  } catch (error) {
    const { name, message } = safeError(error);
    return done({ ...shown, action: RestoreAction.failed, detail: `${name}: ${message}` });
  }
}

async function applyOne(
  deps: RestoreDeps,
  tombstone: Tombstone,
  entry: PlanEntry,
  about: Omit<RestoreResult, 'action'>,
): Promise<RestoreResult> {
  const definition = intactDefinition(tombstone);
  const protectedStep: ApplyStep[] = entry.protect ? ['protect'] : [];
  if (!entry.create) {
    // Nothing to create: the plan's line, with the protection it wrote (alreadyRestored with keep).
    return {
      ...about,
      ...(typeof definition === 'string' ? {} : describeDefinition(definition)),
      action: entry.action,
      steps: protectedStep,
      ...(entry.detail !== undefined ? { detail: entry.detail } : {}),
    };
  }
  if (typeof definition === 'string') {
    return { ...about, action: RestoreAction.failed, steps: protectedStep, detail: definition };
  }
  // Exactly what the plan showed: the tombstone's definition, at the planned time.
  const input: CreateScheduleInput = {
    ...createInputOf(definition),
    ScheduleExpression: entry.create.expression,
  };
  if (entry.create.zone === '') delete input.ScheduleExpressionTimezone;
  else input.ScheduleExpressionTimezone = entry.create.zone;
  const shown = { ...about, ...describeDefinition(definition, input) };
  try {
    await deps.scheduler.send(
      new CreateScheduleCommand({
        ...input,
        // 64 hex characters: the API allows 1-64 of [a-zA-Z0-9-_].
        ClientToken: sha256(
          `${tombstone.key}|${input.ScheduleExpression}|${input.ScheduleExpressionTimezone ?? ''}`,
        ),
      }),
    );
    return {
      ...shown,
      action: RestoreAction.restored,
      steps: [...protectedStep, 'create'],
      ...(entry.detail ? { detail: entry.detail } : {}),
    };
  } catch (error) {
    if (error instanceof ConflictException) {
      const existing = await lookUp(
        deps.scheduler,
        tombstone.group,
        tombstone.name,
        expectedArn(deps, tombstone),
      ).catch(() => undefined);
      if (existing && sameSchedule(createInputOf(existing), input, input)) {
        return {
          ...shown,
          action: RestoreAction.alreadyRestored,
          steps: protectedStep,
          detail: 'an identical schedule exists: nothing to create',
        };
      }
      return {
        ...shown,
        action: RestoreAction.exists,
        steps: protectedStep,
        detail: `a different schedule of this name appeared after the plan was checked: not overwritten${entry.protect ? '; its name was protected before the create: unprotect it if it should be swept' : ''}`,
      };
    }
    const { name, message } = safeError(error);
    return { ...shown, action: RestoreAction.failed, steps: protectedStep, detail: `${name}: ${message}` };
  }
}

/**
 * The ARN of the schedule at a tombstone's place: in the account and Region of the MAC key the
 * tombstones are certified with (the stack's own), whatever the stored definition says.
 */
function expectedArn(
  deps: Pick<RestoreDeps, 'mac'>,
  tombstone: Pick<Tombstone, 'group' | 'name'>,
): string | undefined {
  return scheduleArnIn(deps.mac.keyId, tombstone.group, tombstone.name);
}

/** The schedule now at the tombstone's place; `arn`, the one expected there: an answer of another is refused. */
async function lookUp(
  scheduler: SchedulerClient,
  group: string,
  name: string,
  arn: string | undefined,
): Promise<ScheduleDefinition | undefined> {
  try {
    const { $metadata: _metadata, ...found } = await scheduler.send(
      new GetScheduleCommand({ GroupName: group, Name: name }),
    );
    // Never judged "exists" or "already restored" on another schedule's answer (src/schedule/name.ts).
    if (!answersFor({ GroupName: group, Name: name, Arn: arn }, found)) {
      throw new Error(`GetSchedule of ${group}/${name} answered another schedule; nothing is done for it`);
    }
    return found;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Whether an existing schedule is the one restore would create: identical to `input` or to the
 * original definition, or to the original but for the time of a one-time schedule (an earlier
 * restore with a new time).
 */
function sameSchedule(
  existing: CreateScheduleInput,
  original: CreateScheduleInput,
  input: CreateScheduleInput,
): false | 'same' | 'newTime' {
  const found = canonical(existing);
  if (found === canonical(input) || found === canonical(original)) return 'same';
  const untimed = (value: CreateScheduleInput) =>
    canonical({ ...value, ScheduleExpression: undefined, ScheduleExpressionTimezone: undefined });
  if (
    parseExpression(original.ScheduleExpression).kind === 'at' &&
    parseExpression(existing.ScheduleExpression).kind === 'at' &&
    untimed(existing) === untimed(original)
  ) {
    return 'newTime';
  }
  return false;
}

/** CreateSchedule's input for a definition: every member GetSchedule returns that CreateSchedule takes. */
export function createInputOf(definition: ScheduleDefinition): CreateScheduleInput {
  const members = {
    Name: definition.Name,
    GroupName: definition.GroupName,
    ScheduleExpression: definition.ScheduleExpression,
    ScheduleExpressionTimezone: definition.ScheduleExpressionTimezone,
    StartDate: definition.StartDate,
    EndDate: definition.EndDate,
    Description: definition.Description,
    State: definition.State,
    KmsKeyArn: definition.KmsKeyArn,
    FlexibleTimeWindow: definition.FlexibleTimeWindow,
    Target: definition.Target,
    ActionAfterCompletion: definition.ActionAfterCompletion,
  };
  const present = Object.entries(members).filter(([, value]) => value !== undefined);
  return Object.fromEntries(present) as unknown as CreateScheduleInput;
}

/** A one-time at() schedule whose time (in its zone) is not in the future. */
export function hasPassed(definition: ScheduleDefinition, now: Date): boolean {
  const parsed = parseExpression(definition.ScheduleExpression);
  if (parsed.kind !== 'at') return false;
  const zone = definition.ScheduleExpressionTimezone ?? 'UTC';
  if (!resolveZone(zone).ok) return true; // cannot tell: ask for a choice rather than guess
  const instant = instantOf(parsed.local, zone);
  return instant === undefined || instant.getTime() <= now.getTime();
}

function instantOf(local: LocalDateTime, zone: string): Date | undefined {
  const resolved = resolveLocalTime(local, zone);
  if (resolved.kind === 'exact') return resolved.instant;
  if (resolved.kind === 'ambiguous') return resolved.later;
  return undefined;
}

/** JSON with keys in order and dates as ISO strings, for comparing two definitions. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) => {
    if (member && typeof member === 'object' && !Array.isArray(member)) {
      return Object.fromEntries(
        Object.entries(member as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
      );
    }
    return member;
  });
}
