// The EventBridge Scheduler part of the emulator: the REST-JSON API the SDK's SchedulerClient speaks
// (schedules and schedule groups), faithful where a sweeper could be fooled (summary-only listings,
// cursors that survive deletes, DELETE schedules vanishing on time), plus an in-process API and
// /_emulator/scheduler/* controls for seeding millions of schedules quickly.
import type { CreateScheduleInput, GetScheduleOutput } from '@aws-sdk/client-scheduler';
import {
  AwsError,
  badControl,
  type ControlPlane,
  conflict,
  type EmulatedService,
  type EmulatorRequest,
  type EmulatorResponse,
  notFound,
  parseJsonBody,
  unknownControl,
  validation,
} from './core.ts';
import { ApplicationAction } from './faults.ts';
import { checkMember, checkOptionalMember, Shape } from './scheduler-constraints.ts';
import {
  AfterCompletion,
  isValidName,
  type ParseOptions,
  parseAt,
  parseDefinition,
  requireName,
  type ScheduleDefinition,
  ScheduleState,
  WindowMode,
  wallClockToInstant,
} from './scheduler-model.ts';
import {
  type CountFilter,
  createScheduleStore,
  type GroupRecord,
  type ListCursor,
  RemovalReason,
  type ScheduleRecord,
} from './scheduler-store.ts';
import { type SynthesizeReport, type SynthesizeSpec, synthesizePopulation } from './scheduler-synthesize.ts';

export const DEFAULT_SCHEDULE_QUOTA = 10_000_000;
export const DEFAULT_GROUP_QUOTA = 500;
export const DEFAULT_GROUP = 'default';

/** A definition as CreateSchedule takes it, plus the dates seeding may set to put it in the past. */
export type SeedDefinition = Omit<CreateScheduleInput, 'ClientToken'> & {
  CreationDate?: Date | string | number;
  LastModificationDate?: Date | string | number;
};

export interface SeedOptions {
  /** Accept zones this runtime cannot resolve (stand-ins for zones only AWS's tz database knows). */
  allowUnknownZones?: boolean;
}

/** GetSchedule's answer, with Dates, as the in-process API returns it. */
export type ScheduleView = Omit<GetScheduleOutput, '$metadata'>;

export interface SchedulerCounters {
  schedules: number;
  groups: number;
  created: number;
  updated: number;
  /** Deleted through the DeleteSchedule API. */
  deletedByApi: number;
  /** Removed by Scheduler itself after their last invocation (ActionAfterCompletion DELETE). */
  autoDeleted: number;
  /** Removed because their group was deleted. */
  deletedWithGroup: number;
}

export interface SchedulerService extends EmulatedService {
  name: 'scheduler';
  /** Inserts validated definitions without HTTP; all or nothing. */
  seed(definitions: readonly SeedDefinition[], options?: SeedOptions): { created: number };
  /** Generates a deterministic mixed population relative to plane.now(); see scheduler-synthesize.ts. */
  synthesize(spec: SynthesizeSpec): SynthesizeReport;
  /** Creates the group if it does not exist; returns its ARN. */
  createGroup(name: string): string;
  count(filter?: CountFilter): number;
  get(group: string, name: string): ScheduleView | undefined;
  has(group: string, name: string): boolean;
  setScheduleQuota(limit: number): void;
  scheduleQuota(): number;
  /**
   * The next `count` DeleteSchedule and UpdateSchedule calls on this schedule answer ConflictException
   * and change nothing, as AWS documents they can ("updating or deleting the resource can cause an
   * inconsistent state"), for example while another change to it is in progress.
   */
  holdConflicts(group: string, name: string, count?: number): void;
  /** "group/name" of every schedule deleted through DeleteSchedule, oldest first. */
  deletedNames(): readonly string[];
  clearDeletedNames(): void;
  counters(): SchedulerCounters;
  /** A group's tags, as ListTagsForResource answers them (undefined when the group does not exist). */
  groupTags(group: string): Record<string, string> | undefined;
  /**
   * GetSchedule of a schedule encrypted with one of these KMS key ARNs answers 403
   * AccessDeniedException, as when the caller may not use the customer managed key to decrypt it.
   */
  denyKmsKeys(keyArns: readonly string[]): void;
  /** Drops every schedule and group except an empty `default`; resets counters and the quota. */
  reset(): void;
}

export interface SchedulerServiceOptions {
  accountId?: string;
  region?: string;
  /** ARN partition; by default the region's (aws-cn for cn-*, aws-us-gov for us-gov-*, else aws). */
  partition?: string;
}

/** The partition a region belongs to, for building ARNs the way AWS does there. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const Operation = {
  listSchedules: 'ListSchedules',
  getSchedule: 'GetSchedule',
  createSchedule: 'CreateSchedule',
  updateSchedule: 'UpdateSchedule',
  deleteSchedule: 'DeleteSchedule',
  listScheduleGroups: 'ListScheduleGroups',
  createScheduleGroup: 'CreateScheduleGroup',
  getScheduleGroup: 'GetScheduleGroup',
  deleteScheduleGroup: 'DeleteScheduleGroup',
  tagResource: 'TagResource',
  untagResource: 'UntagResource',
  listTagsForResource: 'ListTagsForResource',
} as const;

const TAG_ROUTES: Record<string, string> = {
  POST: Operation.tagResource,
  DELETE: Operation.untagResource,
  GET: Operation.listTagsForResource,
};
/** At most 50 tags per resource (Scheduler API model; key and value lengths are checked by checkTags). */
const MAX_TAGS = 50;

const SCHEDULE_ROUTES: Record<string, string> = {
  POST: Operation.createSchedule,
  PUT: Operation.updateSchedule,
  GET: Operation.getSchedule,
  DELETE: Operation.deleteSchedule,
};
const GROUP_ROUTES: Record<string, string> = {
  POST: Operation.createScheduleGroup,
  GET: Operation.getScheduleGroup,
  DELETE: Operation.deleteScheduleGroup,
};

/** Recent ClientTokens remembered for idempotent creates; SDK retries arrive within seconds. */
const CLIENT_TOKEN_MEMORY = 10_000;
/** AWS rejects a StartDate more than five minutes in the past. */
const START_DATE_TOLERANCE_MS = 5 * 60_000;
const DELETED_SAMPLE_LIMIT = 1000;
const DELETED_FULL_LIST_LIMIT = 10_000;

export function createSchedulerService(
  plane: ControlPlane,
  options: SchedulerServiceOptions = {},
): SchedulerService {
  const accountId = options.accountId ?? '123456789012';
  const region = options.region ?? 'us-east-1';
  const partition = options.partition ?? partitionOf(region);
  const arnPrefix = `arn:${partition}:scheduler:${region}:${accountId}`;
  const scheduleArn = (group: string, name: string) => `${arnPrefix}:schedule/${group}/${name}`;

  let quota = DEFAULT_SCHEDULE_QUOTA;
  let deleted: string[] = [];
  const counters = {
    created: 0,
    updated: 0,
    deletedByApi: 0,
    autoDeleted: 0,
    deletedWithGroup: 0,
  };
  const clientTokens = new Map<string, { group: string; name: string; seq: number }>();
  /** Tags per schedule group name (Scheduler tags schedule groups only). */
  const tags = new Map<string, Map<string, string>>();
  let deniedKmsKeys = new Set<string>();
  /** ClientToken of recent deletes → "group/name". */
  const deleteTokens = new Map<string, string>();
  /** "group/name" → how many more DeleteSchedule / UpdateSchedule calls answer ConflictException. */
  const heldConflicts = new Map<string, number>();

  function throwIfHeld(group: string, name: string): void {
    const key = `${group}/${name}`;
    const remaining = heldConflicts.get(key);
    if (remaining === undefined) return;
    if (remaining <= 1) heldConflicts.delete(key);
    else heldConflicts.set(key, remaining - 1);
    throw conflict(`Schedule ${name} is being modified by another request; retry later.`);
  }

  const store = createScheduleStore({
    groupArn: (name) => `${arnPrefix}:schedule-group/${name}`,
    onRemove(record, reason) {
      if (reason === RemovalReason.api) {
        counters.deletedByApi += 1;
        deleted.push(`${record.group}/${record.name}`);
      } else if (reason === RemovalReason.auto) {
        counters.autoDeleted += 1;
        plane.statsFor('AutoDeleteSchedule').calls += 1;
        if (plane.faults.recording) {
          const at = plane.now().getTime();
          plane.faults.record({
            actor: 'service',
            service: 'scheduler',
            operation: 'AutoDeleteSchedule',
            key: `${record.group}/${record.name}`,
            at,
            status: 200,
            applied: true,
            answer: 'delivered',
            answeredAt: at,
            detail: { group: record.group, name: record.name },
          });
        }
      } else if (reason === RemovalReason.application) {
        // Counted by the applied record (actor application), not as an API delete.
      } else {
        counters.deletedWithGroup += 1;
      }
    },
  });
  store.addGroup(DEFAULT_GROUP, plane.now().getTime());

  const nowMs = () => plane.now().getTime();
  const expire = () => store.expire(nowMs());

  function requireGroup(name: string): GroupRecord {
    const group = store.group(name);
    if (!group) throw notFound(`Schedule group ${name} does not exist.`);
    return group;
  }

  function requireSchedule(groupName: string, name: string): ScheduleRecord {
    requireGroup(groupName);
    const record = store.find(groupName, name);
    if (!record) throw notFound(`Schedule ${name} does not exist.`);
    return record;
  }

  function checkQuota(adding: number): void {
    if (store.size() + adding > quota) {
      throw new AwsError(
        'ServiceQuotaExceededException',
        402,
        `Schedule quota exceeded: ${store.size()} schedules exist and the quota is ${quota}.`,
      );
    }
  }

  // ----- HTTP operations

  function createSchedule(name: string, body: Record<string, unknown>): EmulatorResponse {
    const definition = parseDefinition(body, { name });
    checkRelativeDates(definition, nowMs());
    requireGroup(definition.group);
    const token = typeof body.ClientToken === 'string' ? body.ClientToken : undefined;
    const existing = store.find(definition.group, definition.name);
    if (existing) {
      // A retried create (same ClientToken, same group and name, the schedule it made still there)
      // answers with that schedule's ARN, as an idempotent API should; anything else is a conflict.
      const remembered = token === undefined ? undefined : clientTokens.get(token);
      if (remembered && remembered.seq === existing.seq) {
        return ok({ ScheduleArn: scheduleArn(existing.group, existing.name) });
      }
      throw conflict(`Schedule ${definition.name} already exists.`);
    }
    checkQuota(1);
    const record = store.insert(definition, nowMs(), autoDeleteDue(definition));
    counters.created += 1;
    if (token !== undefined) rememberToken(token, record);
    return {
      ...ok({ ScheduleArn: scheduleArn(record.group, record.name) }),
      ...(plane.faults.recording
        ? { detail: { group: record.group, name: record.name, after: viewOf(record) } }
        : {}),
    };
  }

  function rememberToken(token: string, record: ScheduleRecord): void {
    clientTokens.set(token, { group: record.group, name: record.name, seq: record.seq });
    if (clientTokens.size > CLIENT_TOKEN_MEMORY) {
      const oldest = clientTokens.keys().next().value;
      if (oldest !== undefined) clientTokens.delete(oldest);
    }
  }

  function updateSchedule(name: string, body: Record<string, unknown>): EmulatorResponse {
    const definition = parseDefinition(body, { name });
    checkRelativeDates(definition, nowMs());
    const record = requireSchedule(definition.group, definition.name);
    throwIfHeld(record.group, record.name);
    const before = plane.faults.recording ? viewOf(record) : undefined;
    store.replace(record, definition, nowMs(), autoDeleteDue(definition));
    counters.updated += 1;
    return {
      ...ok({ ScheduleArn: scheduleArn(record.group, record.name) }),
      ...(before
        ? { detail: { group: record.group, name: record.name, before, after: viewOf(record) } }
        : {}),
    };
  }

  function listSchedules(query: URLSearchParams): EmulatorResponse {
    const group = checkOptionalMember(query.get('ScheduleGroup'), 'GroupName', Shape.ScheduleGroupName);
    if (group !== undefined) requireGroup(group);
    const namePrefix = checkOptionalMember(query.get('NamePrefix'), 'NamePrefix', Shape.NamePrefix);
    const state = checkOptionalMember(query.get('State'), 'State', Shape.ScheduleState) as
      | (typeof ScheduleState)[keyof typeof ScheduleState]
      | undefined;
    const limit = maxResults(query);
    const cursor = decodeCursor(checkOptionalMember(query.get('NextToken'), 'NextToken', Shape.NextToken));
    if (cursor && group !== undefined && cursor.group !== group) {
      throw validation('NextToken does not belong to this ScheduleGroup.');
    }
    const page = store.list({ group, namePrefix, state, cursor, limit });
    return ok({
      Schedules: page.items.map((record) => ({
        Arn: scheduleArn(record.group, record.name),
        CreationDate: seconds(record.creationDate),
        GroupName: record.group,
        LastModificationDate: seconds(record.lastModificationDate),
        Name: record.name,
        State: record.state,
        Target: { Arn: record.targetArn },
      })),
      ...(page.next ? { NextToken: encodeCursor(page.next) } : {}),
    });
  }

  function listScheduleGroups(query: URLSearchParams): EmulatorResponse {
    const namePrefix = checkOptionalMember(
      query.get('NamePrefix'),
      'NamePrefix',
      Shape.ScheduleGroupNamePrefix,
    );
    const limit = maxResults(query);
    const after = decodeCursor(
      checkOptionalMember(query.get('NextToken'), 'NextToken', Shape.NextToken),
    )?.group;
    const names = store
      .groupNames()
      .filter(
        (name) => (after === undefined || name > after) && (!namePrefix || name.startsWith(namePrefix)),
      );
    const page = names.slice(0, limit);
    const last = page[page.length - 1];
    return ok({
      ScheduleGroups: page.map((name) => groupView(store.group(name)!)),
      ...(names.length > limit && last !== undefined
        ? { NextToken: encodeCursor({ group: last, seq: 0 }) }
        : {}),
    });
  }

  function createScheduleGroup(name: string, body: Record<string, unknown>): EmulatorResponse {
    checkMember(name, 'Name', Shape.ScheduleGroupName);
    checkOptionalMember(body.ClientToken, 'ClientToken', Shape.ClientToken);
    checkTags(body.Tags);
    if (store.group(name)) throw conflict(`Schedule group ${name} already exists.`);
    if (store.groups.size >= DEFAULT_GROUP_QUOTA) {
      throw new AwsError(
        'ServiceQuotaExceededException',
        402,
        `Schedule group quota of ${DEFAULT_GROUP_QUOTA} reached.`,
      );
    }
    const initial = body.Tags === undefined ? new Map<string, string>() : parseTags(body.Tags);
    const group = store.addGroup(name, nowMs());
    if (initial.size > 0) tags.set(name, initial);
    return ok({ ScheduleGroupArn: group.arn });
  }

  function deleteScheduleGroup(name: string, query: URLSearchParams): EmulatorResponse {
    checkMember(name, 'Name', Shape.ScheduleGroupName);
    checkOptionalMember(query.get('clientToken'), 'ClientToken', Shape.ClientToken);
    if (name === DEFAULT_GROUP) throw validation('The default schedule group cannot be deleted.');
    requireGroup(name);
    store.removeGroup(name);
    return ok({});
  }

  /** The group a tagging request's ResourceArn names; tags exist on schedule groups only. */
  function taggedGroup(resourceArn: string): string {
    const prefix = `${arnPrefix}:schedule-group/`;
    if (!resourceArn.startsWith(prefix)) {
      throw validation(
        `1 validation error detected: Value '${resourceArn}' at 'resourceArn' failed to satisfy constraint: Member must be a schedule group ARN`,
      );
    }
    const group = resourceArn.slice(prefix.length);
    requireGroup(group);
    return group;
  }

  function groupView(group: GroupRecord) {
    return {
      Arn: group.arn,
      CreationDate: seconds(group.creationDate),
      LastModificationDate: seconds(group.lastModificationDate),
      Name: group.name,
      State: 'ACTIVE',
    };
  }

  function handle(operation: string, request: EmulatorRequest): EmulatorResponse {
    expire();
    const segment = pathName(request.path);
    switch (operation) {
      case Operation.listSchedules:
        return listSchedules(request.query);
      case Operation.getSchedule: {
        const group = groupQuery(request.query);
        const record = requireSchedule(group, requireName(segment, 'Name'));
        if (record.kmsKeyArn !== undefined && deniedKmsKeys.has(record.kmsKeyArn)) {
          // The caller may not use the schedule's customer managed key: its target cannot be decrypted.
          throw new AwsError(
            'AccessDeniedException',
            403,
            `User is not authorized to perform kms:Decrypt on resource ${record.kmsKeyArn} because no identity-based policy allows the kms:Decrypt action`,
          );
        }
        return {
          ...ok(describeRecord(record, scheduleArn, seconds)),
          // What the reader saw, so a test can tell a stale read from a change it could not see.
          ...(plane.faults.recording ? { detail: { group, name: record.name, read: viewOf(record) } } : {}),
        };
      }
      case Operation.createSchedule:
        return createSchedule(segment, parseJsonBody(request));
      case Operation.updateSchedule:
        return updateSchedule(segment, parseJsonBody(request));
      case Operation.deleteSchedule: {
        const group = groupQuery(request.query);
        const name = requireName(segment, 'Name');
        // idempotencyToken: absent is fine (the service generates one); present, even empty, it is checked.
        const token = checkOptionalMember(request.query.get('clientToken'), 'ClientToken', Shape.ClientToken);
        // A retried delete with the same ClientToken succeeds again, as idempotency promises.
        if (token !== undefined && deleteTokens.get(token) === `${group}/${name}`) return ok({});
        const record = requireSchedule(group, name);
        throwIfHeld(group, name);
        const before = plane.faults.recording ? viewOf(record) : undefined;
        store.remove(record, RemovalReason.api);
        if (token !== undefined) {
          deleteTokens.set(token, `${group}/${name}`);
          if (deleteTokens.size > CLIENT_TOKEN_MEMORY) {
            const oldest = deleteTokens.keys().next().value;
            if (oldest !== undefined) deleteTokens.delete(oldest);
          }
        }
        return { ...ok({}), ...(before ? { detail: { group, name, before } } : {}) };
      }
      case Operation.listScheduleGroups:
        return listScheduleGroups(request.query);
      case Operation.createScheduleGroup:
        return createScheduleGroup(segment, parseJsonBody(request));
      case Operation.getScheduleGroup:
        return ok(groupView(requireGroup(requireName(segment, 'Name'))));
      case Operation.deleteScheduleGroup:
        tags.delete(segment);
        return deleteScheduleGroup(segment, request.query);
      case Operation.tagResource: {
        const group = taggedGroup(segment);
        const adding = parseTags(parseJsonBody(request).Tags);
        const current = new Map(tags.get(group) ?? []);
        for (const [key, value] of adding) current.set(key, value);
        if (current.size > MAX_TAGS) throw validation(`A resource can have at most ${MAX_TAGS} tags.`);
        tags.set(group, current);
        return ok({});
      }
      case Operation.untagResource: {
        const group = taggedGroup(segment);
        const keys = request.query.getAll('TagKeys');
        if (keys.length === 0 || keys.length > MAX_TAGS) {
          throw validation(
            `1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length between 1 and ${MAX_TAGS}`,
          );
        }
        for (const [index, key] of keys.entries()) checkMember(key, `TagKeys.${index + 1}`, Shape.TagKey);
        for (const key of keys) tags.get(group)?.delete(key);
        return ok({});
      }
      case Operation.listTagsForResource: {
        const group = taggedGroup(segment);
        return ok({ Tags: [...(tags.get(group) ?? [])].map(([Key, Value]) => ({ Key, Value })) });
      }
      default:
        throw validation(`Unsupported operation ${operation}`);
    }
  }

  /** GetSchedule's answer with Dates, without absent members (the in-process view). */
  function viewOf(record: ScheduleRecord): ScheduleView {
    const view = withoutUndefined(describeRecord(record, scheduleArn, (ms) => new Date(ms)));
    view.Target = withoutUndefined(view.Target);
    return view;
  }

  /**
   * The fault model's simulated application (faults.ts): changes the schedule the product's request
   * names. update: a one-time at() 1 to 24 hours ahead (picked by `draw`), ENABLED, in UTC;
   * recreate: deleted and created again with such an at(); delete: removed.
   */
  function simulateApplication(
    action: ApplicationAction,
    _operation: string,
    request: EmulatorRequest,
    draw: number,
  ): { operation: string; detail: Record<string, unknown> }[] | undefined {
    expire();
    if (!/^\/schedules\/[^/]+$/.test(request.path)) return undefined;
    let group: string;
    let name: string;
    try {
      group = groupQuery(request.query);
      name = requireName(pathName(request.path), 'name');
    } catch {
      return undefined;
    }
    const record = store.find(group, name);
    if (!record) return undefined;
    const before = viewOf(record);
    if (action === ApplicationAction.delete) {
      store.remove(record, RemovalReason.application);
      return [{ operation: Operation.deleteSchedule, detail: { group, name, before } }];
    }
    const dueMs = Math.ceil((nowMs() + 3_600_000 + Math.floor(draw * 23 * 3_600_000)) / 1000) * 1000;
    const { StartDate: _start, EndDate: _end, CreationDate: _c, LastModificationDate: _m, ...rest } = before;
    const body = {
      ...rest,
      ScheduleExpression: `at(${new Date(dueMs).toISOString().slice(0, 19)})`,
      ScheduleExpressionTimezone: 'UTC',
      State: ScheduleState.enabled,
    } as unknown as Record<string, unknown>;
    const definition = parseDefinition(body, { allowUnknownZones: true });
    if (action === ApplicationAction.update) {
      store.replace(record, definition, nowMs(), autoDeleteDue(definition));
      counters.updated += 1;
      return [
        { operation: Operation.updateSchedule, detail: { group, name, before, after: viewOf(record) } },
      ];
    }
    store.remove(record, RemovalReason.application);
    const created = store.insert(definition, nowMs(), autoDeleteDue(definition));
    counters.created += 1;
    return [
      { operation: Operation.deleteSchedule, detail: { group, name, before } },
      { operation: Operation.createSchedule, detail: { group, name, after: viewOf(created) } },
    ];
  }

  // ----- In-process API

  function seed(definitions: readonly SeedDefinition[], seedOptions: SeedOptions = {}): { created: number } {
    expire();
    const parseOptions: ParseOptions = { allowDates: true, allowUnknownZones: seedOptions.allowUnknownZones };
    const parsed: ScheduleDefinition[] = new Array(definitions.length);
    const batchKeys = new Set<string>();
    // Everything is checked before anything is stored, so a bad definition changes nothing.
    definitions.forEach((raw, index) => {
      let definition: ScheduleDefinition;
      try {
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
          throw validation('A seed definition must be an object shaped like CreateSchedule input');
        }
        definition = parseDefinition(raw as unknown as Record<string, unknown>, parseOptions);
        requireGroup(definition.group);
      } catch (error) {
        throw seedError(index, raw, error);
      }
      const key = `${definition.group}/${definition.name}`;
      if (batchKeys.has(key) || store.find(definition.group, definition.name)) {
        throw seedError(index, raw, conflict(`Schedule ${key} already exists.`));
      }
      batchKeys.add(key);
      parsed[index] = definition;
    });
    checkQuota(parsed.length);
    const now = nowMs();
    for (const definition of parsed) store.insert(definition, now, autoDeleteDue(definition));
    counters.created += parsed.length;
    // A seeded DELETE schedule that is already past due disappears now, as it would have on AWS.
    expire();
    return { created: parsed.length };
  }

  function createGroup(name: string): string {
    requireName(name, 'Name');
    return (store.group(name) ?? store.addGroup(name, nowMs())).arn;
  }

  function control(action: string, body: Record<string, unknown>): unknown {
    expire();
    switch (action) {
      case 'seed': {
        if (!Array.isArray(body.schedules))
          throw validation('scheduler/seed schedules: expected {"schedules": [...]}');
        return seed(body.schedules as SeedDefinition[], {
          allowUnknownZones: body.allowUnknownZones === true,
        });
      }
      case 'synthesize':
        return service.synthesize(body as unknown as SynthesizeSpec);
      case 'quota': {
        if (body.quota !== undefined) service.setScheduleQuota(Number(body.quota));
        return { quota };
      }
      case 'deleted': {
        const names =
          deleted.length <= DELETED_FULL_LIST_LIMIT ? deleted : deleted.slice(0, DELETED_SAMPLE_LIMIT);
        const answer = { count: deleted.length, names, complete: names.length === deleted.length };
        if (body.clear === true) deleted = [];
        return answer;
      }
      case 'count':
        return { count: store.count(body as CountFilter) };
      case 'conflict': {
        const count = body.count === undefined ? 1 : Number(body.count);
        service.holdConflicts(String(body.group ?? DEFAULT_GROUP), String(body.name), count);
        return { group: body.group ?? DEFAULT_GROUP, name: body.name, count };
      }
      case 'group':
        return { arn: createGroup(String(body.name)) };
      case 'stats':
        return service.counters();
      case 'reset':
        service.reset();
        return { reset: true };
      default:
        throw unknownControl(
          `Unknown scheduler control '${action}'; expected seed, synthesize, quota, deleted, count, conflict, group, stats or reset`,
        );
    }
  }

  const service: SchedulerService = {
    name: 'scheduler',
    identify(request) {
      const { method, path } = request;
      if (path === '/schedules') return method === 'GET' ? Operation.listSchedules : undefined;
      if (path === '/schedule-groups') return method === 'GET' ? Operation.listScheduleGroups : undefined;
      if (/^\/schedules\/[^/]+$/.test(path)) return SCHEDULE_ROUTES[method];
      if (/^\/schedule-groups\/[^/]+$/.test(path)) return GROUP_ROUTES[method];
      if (/^\/tags\/[^/]+$/.test(path)) return TAG_ROUTES[method];
      return undefined;
    },
    handle,
    simulateApplication,
    renderError(error) {
      return {
        status: error.status,
        headers: { 'x-amzn-errortype': error.type },
        body: { Message: error.message },
      };
    },
    control,
    seed,
    synthesize(spec) {
      expire();
      return synthesizePopulation(spec, {
        now: nowMs(),
        createGroup,
        seed: (definitions) => seed(definitions, { allowUnknownZones: true }).created,
      });
    },
    createGroup,
    count(filter) {
      expire();
      return store.count(filter);
    },
    get(group, name) {
      expire();
      const record = store.find(group, name);
      // Same keys as the SDK's GetScheduleOutput: members the schedule does not have are absent, not undefined.
      return record ? viewOf(record) : undefined;
    },
    has(group, name) {
      expire();
      return store.find(group, name) !== undefined;
    },
    setScheduleQuota(limit) {
      if (!Number.isInteger(limit) || limit < 0)
        throw badControl(`Schedule quota must be a whole number, got ${limit}`);
      quota = limit;
    },
    scheduleQuota: () => quota,
    holdConflicts(group, name, count = 1) {
      if (!Number.isInteger(count) || count < 1) {
        throw badControl(`Conflict count must be a whole number from 1, got ${count}`);
      }
      heldConflicts.set(`${group}/${name}`, count);
    },
    deletedNames: () => deleted,
    clearDeletedNames() {
      deleted = [];
    },
    counters() {
      return { schedules: store.size(), groups: store.groups.size, ...counters };
    },
    groupTags(group) {
      if (!store.group(group)) return undefined;
      return Object.fromEntries(tags.get(group) ?? []);
    },
    denyKmsKeys(keyArns) {
      deniedKmsKeys = new Set(keyArns);
    },
    reset() {
      store.clear();
      store.addGroup(DEFAULT_GROUP, nowMs());
      deleted = [];
      clientTokens.clear();
      deleteTokens.clear();
      heldConflicts.clear();
      tags.clear();
      deniedKmsKeys = new Set();
      quota = DEFAULT_SCHEDULE_QUOTA;
      for (const key of Object.keys(counters) as (keyof typeof counters)[]) counters[key] = 0;
    },
  };
  return service;
}

/**
 * When Scheduler removes a schedule with ActionAfterCompletion DELETE: a one-time schedule after its
 * invocation (the end of its flexible window, assuming delivery succeeds); a recurring one at its
 * EndDate. Never for DISABLED schedules, never for an at() that falls in a DST gap (it never fires),
 * never for a recurring schedule without EndDate. NaN means never.
 */
export function autoDeleteDue(definition: ScheduleDefinition): number {
  if (definition.actionAfterCompletion !== AfterCompletion.delete) return Number.NaN;
  if (definition.state !== ScheduleState.enabled) return Number.NaN;
  const wall = parseAt(definition.expression);
  if (wall) {
    const instant = wallClockToInstant(wall, definition.timezone);
    if (instant === undefined) return Number.NaN;
    const window =
      definition.windowMode === WindowMode.flexible ? (definition.windowMinutes ?? 0) * 60_000 : 0;
    return instant + window;
  }
  return definition.endDate ?? Number.NaN;
}

function describeRecord<T>(
  record: ScheduleRecord,
  scheduleArn: (group: string, name: string) => string,
  date: (ms: number) => T,
) {
  return {
    ActionAfterCompletion: record.actionAfterCompletion,
    Arn: scheduleArn(record.group, record.name),
    CreationDate: date(record.creationDate),
    Description: record.description,
    EndDate: record.endDate === undefined ? undefined : date(record.endDate),
    FlexibleTimeWindow:
      record.windowMinutes === undefined
        ? { Mode: record.windowMode }
        : { Mode: record.windowMode, MaximumWindowInMinutes: record.windowMinutes },
    GroupName: record.group,
    KmsKeyArn: record.kmsKeyArn,
    LastModificationDate: date(record.lastModificationDate),
    Name: record.name,
    ScheduleExpression: record.expression,
    ScheduleExpressionTimezone: record.timezone,
    StartDate: record.startDate === undefined ? undefined : date(record.startDate),
    State: record.state,
    Target: {
      ...record.targetExtra,
      Arn: record.targetArn,
      RoleArn: record.roleArn,
      Input: record.input,
      RetryPolicy: {
        MaximumEventAgeInSeconds: record.maximumEventAgeSeconds,
        MaximumRetryAttempts: record.maximumRetryAttempts,
      },
      DeadLetterConfig: record.deadLetterArn === undefined ? undefined : { Arn: record.deadLetterArn },
    },
  };
}

function checkRelativeDates(definition: ScheduleDefinition, now: number): void {
  if (definition.startDate !== undefined && definition.startDate < now - START_DATE_TOLERANCE_MS) {
    throw validation('The StartDate you specify cannot be earlier than 5 minutes prior to the current time.');
  }
  if (definition.endDate !== undefined && definition.endDate <= now) {
    throw validation('The EndDate you specify cannot be earlier than the current time.');
  }
}

function seedError(index: number, raw: SeedDefinition, error: unknown): Error {
  const label = `${raw?.GroupName ?? DEFAULT_GROUP}/${raw?.Name ?? '?'}`;
  if (error instanceof AwsError) {
    return new AwsError(error.type, error.status, `Seed definition ${index} (${label}): ${error.message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

const ok = (body: unknown): EmulatorResponse => ({ status: 200, body });
const seconds = (ms: number) => ms / 1000;

function pathName(path: string): string {
  const raw = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw validation(`Malformed name in path: ${raw}`);
  }
}

/** Tags as TagResource and CreateScheduleGroup take them, checked per the API model (checkTags). */
function parseTags(value: unknown): Map<string, string> {
  if (value === undefined) throw validation('Tags must be a list of {"Key": ..., "Value": ...}');
  checkTags(value);
  return new Map((value as { Key: string; Value: string }[]).map((tag) => [tag.Key, tag.Value]));
}

function groupQuery(query: URLSearchParams): string {
  return checkMember(query.get('groupName') ?? DEFAULT_GROUP, 'GroupName', Shape.ScheduleGroupName);
}

function maxResults(query: URLSearchParams): number {
  const raw = query.get('MaxResults');
  if (raw === null) return 100;
  return checkMember(/^-?\d+$/.test(raw) ? Number(raw) : raw, 'MaxResults', Shape.MaxResults);
}

/** CreateScheduleGroup's Tags: a TagList of {Key 1-128, Value 1-256}, at most 200. */
function checkTags(tags: unknown): void {
  if (tags === undefined || tags === null) return;
  if (!Array.isArray(tags)) throw validation('Tags must be a list of {"Key": ..., "Value": ...}');
  checkMember(tags.length, 'Tags', Shape.TagListLength);
  tags.forEach((tag: unknown, index) => {
    const entry = (typeof tag === 'object' && tag !== null ? tag : {}) as Record<string, unknown>;
    checkMember(entry.Key, `Tags.${index + 1}.Key`, Shape.TagKey);
    checkMember(entry.Value, `Tags.${index + 1}.Value`, Shape.TagValue);
  });
}

// The token is opaque to clients: base64url of a versioned cursor naming the last schedule returned.
// Positions are insertion sequence numbers, never offsets, so deletes between pages shift nothing.
function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, g: cursor.group, s: cursor.seq })).toString('base64url');
}

function decodeCursor(token: string | undefined): ListCursor | undefined {
  if (token === undefined) return undefined;
  try {
    if (token.length > 2048) throw new Error('too long');
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (value.v !== 1 || !isValidName(value.g) || !Number.isSafeInteger(value.s) || (value.s as number) < 0) {
      throw new Error('bad shape');
    }
    return { group: value.g, seq: value.s as number };
  } catch {
    throw validation('Invalid NextToken.');
  }
}
