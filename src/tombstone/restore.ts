// Restoring schedules from their tombstones: find them by the keys an operator knows, show what would
// be recreated (the default), and with `apply` recreate each exactly as it was (same name, group and
// definition), idempotently (a ClientToken derived from the tombstone), never overwriting a schedule
// that exists again. A one-time schedule whose time has passed needs a choice: a new time (`at`), or
// `keep`: recreated as it was and protected, so the next sweep leaves it alone.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleInput,
  GetScheduleCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { isNotFound } from '../aws/budget.ts';
import { InputError } from '../errors.ts';
import { protectNames } from '../protect/protection.ts';
import { safeError } from '../redact.ts';
import { type LocalDateTime, parseExpression, parseLocalDateTime } from '../schedule/expression.ts';
import { resolveLocalTime, resolveZone } from '../schedule/timezone.ts';
import { definitionOf, findTombstones, type Tombstone, type TombstoneQuery } from './query.ts';
import { type ScheduleDefinition, sha256 } from './store.ts';

export interface RestoreDeps {
  scheduler: SchedulerClient;
  dynamodb: DynamoDBClient;
  tombstoneTable: string;
  /** The sweep's state table, where `keep` records protected names. Needed only with `keep`. */
  stateTable?: string;
  clock: () => Date;
}

export interface RestoreOptions {
  /** false (the default): only report what would be recreated. */
  apply: boolean;
  /** A new time for one-time schedules whose time has passed: wall clock in `zone`. */
  at?: { local: string; zone: string };
  /** Recreate one-time schedules whose time has passed as they were, and protect them from the sweep. */
  keep?: boolean;
}

export const RestoreAction = {
  /** Dry run: this is what `apply` would create. */
  wouldRestore: 'wouldRestore',
  restored: 'restored',
  /** A schedule identical to the tombstone's exists already (an earlier restore made it). */
  alreadyRestored: 'alreadyRestored',
  /** A different schedule of that name exists again: refused, never overwritten. */
  exists: 'exists',
  /** A one-time schedule whose time has passed: needs `at` or `keep`. */
  needsChoice: 'needsChoice',
  /** The tombstone records a delete that was never sent: there is nothing to restore. */
  notDeleted: 'notDeleted',
  /** An older tombstone of a schedule whose newer tombstone this run already handled. */
  superseded: 'superseded',
  failed: 'failed',
} as const;
export type RestoreAction = (typeof RestoreAction)[keyof typeof RestoreAction];

/** One tombstone's result. Carries no target content: it is printed and logged. */
export interface RestoreResult {
  action: RestoreAction;
  key: string;
  group: string;
  name: string;
  deletedAt: string;
  /** The expression and zone the schedule is (or would be) recreated with. */
  expression?: string;
  zone?: string;
  /** Protected from the sweep (keep). */
  protected?: boolean;
  detail?: string;
}

export type RestoreSummary = Record<RestoreAction, number> & { found: number };

/** Tombstones matching the query, in the order restore() handles them (newest first per schedule). */
export async function collectTombstones(deps: RestoreDeps, query: TombstoneQuery): Promise<Tombstone[]> {
  const found: Tombstone[] = [];
  for await (const tombstone of findTombstones(deps.dynamodb, deps.tombstoneTable, query, deps.clock)) {
    found.push(tombstone);
  }
  // Newest first, so a schedule deleted, restored and deleted again comes back as it was last.
  return found.sort((left, right) => right.deletedAt.localeCompare(left.deletedAt));
}

/** Checks the options before anything is read: a new time must be a wall-clock time in a known zone. */
export function checkRestoreOptions(options: RestoreOptions, now: Date): void {
  if (options.at && options.keep) throw new InputError('--keep', 'either --at or --keep, not both');
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

/**
 * Handles each tombstone in turn and reports each result through `onResult`. Never throws for one
 * tombstone's failure (it is counted in `failed`); throws for a bad query or options.
 */
export async function restoreTombstones(
  deps: RestoreDeps,
  tombstones: readonly Tombstone[],
  options: RestoreOptions,
  onResult: (result: RestoreResult) => void = () => {},
): Promise<RestoreSummary> {
  checkRestoreOptions(options, deps.clock());
  if (options.keep && options.apply && !deps.stateTable) {
    throw new InputError('--state-table', 'the sweep state table, where --keep records protected schedules');
  }
  const summary = Object.fromEntries(
    [...Object.values(RestoreAction), 'found'].map((name) => [name, 0]),
  ) as RestoreSummary;
  const handled = new Set<string>();
  for (const tombstone of tombstones) {
    summary.found += 1;
    const identity = `${tombstone.group}/${tombstone.name}`;
    let result: RestoreResult;
    if (handled.has(identity)) {
      result = {
        ...base(tombstone),
        action: RestoreAction.superseded,
        detail: 'a newer tombstone of this schedule came first',
      };
    } else {
      handled.add(identity);
      try {
        result = await restoreOne(deps, tombstone, options);
      } catch (error) {
        const { name, message } = safeError(error);
        result = { ...base(tombstone), action: RestoreAction.failed, detail: `${name}: ${message}` };
      }
    }
    summary[result.action] += 1;
    onResult(result);
  }
  return summary;
}

const base = (tombstone: Tombstone) => ({
  key: tombstone.key,
  group: tombstone.group,
  name: tombstone.name,
  deletedAt: tombstone.deletedAt,
});

async function restoreOne(
  deps: RestoreDeps,
  tombstone: Tombstone,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const about = base(tombstone);
  if (sha256(tombstone.body) !== tombstone.sha256) {
    return {
      ...about,
      action: RestoreAction.failed,
      detail: 'the stored definition does not match its SHA-256',
    };
  }
  if (tombstone.outcome === 'notSent') {
    return { ...about, action: RestoreAction.notDeleted, detail: 'its delete was never sent' };
  }
  if (tombstone.outcome === 'refused') {
    return { ...about, action: RestoreAction.notDeleted, detail: 'its delete was refused by the service' };
  }
  const definition = definitionOf(tombstone);
  const input = createInputOf(definition);
  const passed = hasPassed(definition, deps.clock());
  let protect = false;
  if (passed) {
    if (options.at) {
      input.ScheduleExpression = `at(${options.at.local})`;
      input.ScheduleExpressionTimezone = options.at.zone;
    } else if (options.keep) {
      protect = true;
    } else {
      return {
        ...about,
        action: RestoreAction.needsChoice,
        expression: input.ScheduleExpression ?? '',
        ...(input.ScheduleExpressionTimezone ? { zone: input.ScheduleExpressionTimezone } : {}),
        detail: 'a one-time schedule whose time has passed: give --at <new time> --zone <zone>, or --keep',
      };
    }
  }
  const planned: RestoreResult = {
    action: RestoreAction.wouldRestore,
    ...about,
    expression: input.ScheduleExpression ?? '',
    ...(input.ScheduleExpressionTimezone ? { zone: input.ScheduleExpressionTimezone } : {}),
    ...(protect ? { protected: true } : {}),
  };

  const existing = await lookUp(deps.scheduler, tombstone.group, tombstone.name);
  if (existing) return judgeExisting(deps, planned, input, existing, protect && options.apply);
  if (!options.apply) return { ...planned, action: RestoreAction.wouldRestore };

  // Protected before it exists, so a sweep between the two steps cannot delete it again.
  if (protect)
    await protectNames(deps.dynamodb, deps.stateTable as string, tombstone.group, [tombstone.name]);
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
  } catch (error) {
    if (!(error instanceof ConflictException)) throw error;
    const now = await lookUp(deps.scheduler, tombstone.group, tombstone.name);
    if (now) return judgeExisting(deps, planned, input, now, false);
    throw error;
  }
  return { ...planned, action: RestoreAction.restored };
}

async function judgeExisting(
  deps: RestoreDeps,
  planned: RestoreResult,
  input: CreateScheduleInput,
  existing: ScheduleDefinition,
  protect: boolean,
): Promise<RestoreResult> {
  if (canonical(createInputOf(existing)) !== canonical(input)) {
    return {
      ...planned,
      action: RestoreAction.exists,
      detail: 'a different schedule of this name exists: not overwritten',
    };
  }
  // Ours, from an earlier run: make sure it is protected if asked (idempotent).
  if (protect) await protectNames(deps.dynamodb, deps.stateTable as string, planned.group, [planned.name]);
  return { ...planned, action: RestoreAction.alreadyRestored };
}

async function lookUp(
  scheduler: SchedulerClient,
  group: string,
  name: string,
): Promise<ScheduleDefinition | undefined> {
  try {
    const { $metadata: _metadata, ...found } = await scheduler.send(
      new GetScheduleCommand({ GroupName: group, Name: name }),
    );
    return found;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
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
