// Which schedules a CloudFormation stack declares, so a sweep can leave them to their stack.
//
// CloudFormation's AWS::Scheduler::Schedule (like the CDK's Schedule construct and SAM) cannot set
// ActionAfterCompletion, so every one-time schedule a template declares stays after it fires.
// Deleting one outside its stack makes the stack drift, and the stack's next update of that
// resource fails (the handler finds no schedule to update): the owning team's deploy breaks. So a
// schedule a stack declares is "owned" and kept by default, and named with its stack.
//
// How ownership is read: ListStacks (every stack not DELETE_COMPLETE), then ListStackResources of
// each, keeping the resources of type AWS::Scheduler::Schedule. Their physical ID is the schedule's
// name (`Ref` of the resource returns the name; CloudFormation resource reference). The group is
// not read: it sits in the template's GroupName property, often as an intrinsic (`!Ref Group`) that
// only the stack could resolve. So a schedule is matched by NAME ALONE within the account and
// Region: a stack declaring `reminder-1` owns `reminder-1` in every group. That can keep a schedule
// no stack owns (the same name in another group), never delete one a stack owns.
//
// Safety rules, in the order ownerOf applies them:
//   - no index could be read at all (AccessDenied, Throttling, ...): 'unknown' for every schedule;
//   - the name is declared by a stack: { stack } (the first stack by name; `stacks` lists all);
//   - the schedule was created after the index was read (ListSchedules' CreationDate): 'unknown',
//     since a stack created since then may declare it;
//   - the index is incomplete (a read failed or was cut off): 'unknown';
//   - otherwise: undefined, no stack declares it.
// ownerOf never throws. The sweep keeps 'unknown' candidates and counts them (ownershipUnknown).
//
// Cadence and quotas: the index is read from CloudFormation at most once an hour
// (OWNERSHIP_DEFAULTS.refreshEveryMs) and cached in the state table; every other call reads the
// cache (one GetItem, plus one per part). CloudFormation documents no per-API request rates (its
// quota page lists resource limits: 2,000 stacks, 500 resources a stack); its API throttles per
// account and Region, shared with every deploy tool polling it. The reader sends at most
// 2 requests/s, so 2,000 stacks take about 17 minutes of reading: it stops after readBudgetMs
// (2 minutes) and keeps what it read as an incomplete index ('unknown' for names not found).
import {
  type CloudFormationClient,
  ListStackResourcesCommand,
  type ListStackResourcesCommandOutput,
  ListStacksCommand,
  type ListStacksCommandOutput,
  type StackStatus,
} from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { RequestBudget } from '../aws/budget.ts';
import type { Logger } from '../log.ts';
import { safeError } from '../redact.ts';

export const SCHEDULE_RESOURCE_TYPE = 'AWS::Scheduler::Schedule';

export const OWNERSHIP_DEFAULTS = {
  /** The index is read from CloudFormation at most this often (1 hour). */
  refreshEveryMs: 3_600_000,
  /** CloudFormation requests per second while reading (ListStacks and ListStackResources together). */
  requestsPerSecond: 2,
  /** The most time one read spends; what is not read by then leaves the index incomplete. */
  readBudgetMs: 120_000,
  /** The most schedule names the index holds (≈ 70 bytes each); more leaves it incomplete. */
  maxSchedules: 50_000,
  /** Throttled answers per request before the read gives up (then: incomplete, 'unknown'). */
  maxThrottleAttempts: 4,
} as const;

/** The head item of the cached index in the state table; its parts are `cfn#index#<readAt ms>#<n>`. */
export const OWNERSHIP_INDEX_KEY = 'cfn#index';
/** Bytes of stack data per part item, well under DynamoDB's 400 KB item limit. */
const PART_BYTES = 300_000;

/** Stacks in every status but DELETE_COMPLETE (a deleted stack's resources are gone or retained, not owned). */
export const LIVE_STACK_STATUSES: StackStatus[] = [
  'CREATE_IN_PROGRESS',
  'CREATE_FAILED',
  'CREATE_COMPLETE',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_FAILED',
  'ROLLBACK_COMPLETE',
  'DELETE_IN_PROGRESS',
  'DELETE_FAILED',
  'UPDATE_IN_PROGRESS',
  'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_COMPLETE',
  'UPDATE_FAILED',
  'UPDATE_ROLLBACK_IN_PROGRESS',
  'UPDATE_ROLLBACK_FAILED',
  'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
  'UPDATE_ROLLBACK_COMPLETE',
  'REVIEW_IN_PROGRESS',
  'IMPORT_IN_PROGRESS',
  'IMPORT_COMPLETE',
  'IMPORT_ROLLBACK_IN_PROGRESS',
  'IMPORT_ROLLBACK_FAILED',
  'IMPORT_ROLLBACK_COMPLETE',
];

/** What CloudFormation declares, as read at `readAt`. */
export interface OwnershipIndex {
  /** ISO 8601: when the read began (a schedule created after it may belong to a stack not seen). */
  readAt: string;
  /** Every live stack's resources were read. */
  complete: boolean;
  /** Why not complete: the error's name (AccessDenied, Throttling, ...), `readBudget` or `maxSchedules`. */
  incompleteBecause?: string;
  /** Stack name → names of the schedules it declares (stacks without schedules left out). */
  stacks: Record<string, string[]>;
  /**
   * Stack name → schedule name → the resource's logical ID in the template, only when the read was
   * asked for them (the report's view, so a team knows what to remove); never cached.
   */
  logicalIds?: Record<string, Record<string, string>>;
  /** Stacks whose resources were read. */
  stacksRead: number;
  /** CloudFormation requests the read sent. */
  requests: number;
}

export type Ownership = { stack: string; stacks: string[] } | undefined | 'unknown';

export interface OwnershipLookup {
  /** Who owns the schedule of this ListSchedules summary (see the rules at the top). Never throws. */
  ownerOf(summary: { Name?: string | undefined; CreationDate?: Date | undefined }): Ownership;
  /** The index behind the answers; undefined when none could be read. */
  readonly index: OwnershipIndex | undefined;
}

/** Answers from an index (or from none: then every answer is 'unknown'). */
export function createOwnershipLookup(index: OwnershipIndex | undefined): OwnershipLookup {
  const byName = new Map<string, string[]>();
  for (const stack of Object.keys(index?.stacks ?? {}).sort()) {
    for (const name of index?.stacks[stack] ?? []) {
      const owners = byName.get(name);
      if (owners) owners.push(stack);
      else byName.set(name, [stack]);
    }
  }
  const readAt = index ? Date.parse(index.readAt) : Number.NaN;
  return {
    index,
    ownerOf(summary) {
      try {
        if (!index || Number.isNaN(readAt) || !summary.Name) return 'unknown';
        const owners = byName.get(summary.Name);
        if (owners) return { stack: owners[0]!, stacks: [...owners] };
        // A Date from the SDK; a string or epoch number is read too, so a summary from another
        // deserializer cannot turn every answer into 'unknown'.
        const raw = summary.CreationDate as Date | string | number | undefined;
        const created = raw === undefined ? Number.NaN : new Date(raw).getTime();
        if (Number.isNaN(created) || created >= readAt) return 'unknown';
        return index.complete ? undefined : 'unknown';
      } catch {
        return 'unknown';
      }
    },
  };
}

export interface OwnershipReadDeps {
  cloudformation: CloudFormationClient;
  clock: () => Date;
  log: Logger;
  /** Monotonic milliseconds (the read's time budget and pacing). */
  elapsed?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface OwnershipReadOptions {
  requestsPerSecond?: number;
  readBudgetMs?: number;
  maxSchedules?: number;
  maxThrottleAttempts?: number;
  /** Also keep each schedule's logical ID (OwnershipIndex.logicalIds). */
  withLogicalIds?: boolean;
}

/**
 * Reads the index from CloudFormation. Never throws: a failed request (AccessDenied, Throttling
 * after its retries, anything) ends the read with what it has, marked incomplete.
 */
export async function readOwnershipIndex(
  deps: OwnershipReadDeps,
  options: OwnershipReadOptions = {},
): Promise<OwnershipIndex> {
  const settings = { ...OWNERSHIP_DEFAULTS, ...options };
  const elapsed = deps.elapsed ?? (() => performance.now());
  const started = elapsed();
  const budget = new RequestBudget('CloudFormation', {
    ratePerSecond: settings.requestsPerSecond,
    maxThrottleAttempts: settings.maxThrottleAttempts,
    now: elapsed,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  const index: OwnershipIndex = {
    readAt: deps.clock().toISOString(),
    complete: false,
    stacks: {},
    stacksRead: 0,
    requests: 0,
  };
  let declared = 0;
  const logicalIds: Record<string, Record<string, string>> = {};
  if (options.withLogicalIds) index.logicalIds = logicalIds;
  const outOfTime = () => elapsed() - started > settings.readBudgetMs;
  try {
    let stacksToken: string | undefined;
    do {
      if (outOfTime()) return incomplete(index, budget, 'readBudget');
      const token = stacksToken;
      const page: ListStacksCommandOutput = await budget.call(() =>
        deps.cloudformation.send(
          new ListStacksCommand({ StackStatusFilter: LIVE_STACK_STATUSES, NextToken: token }),
        ),
      );
      for (const stack of page.StackSummaries ?? []) {
        const stackName = stack.StackName;
        if (!stackName || stack.StackStatus === 'DELETE_COMPLETE') continue;
        let resourcesToken: string | undefined;
        const names: string[] = [];
        do {
          if (outOfTime()) return incomplete(index, budget, 'readBudget');
          const resourceToken = resourcesToken;
          const resources: ListStackResourcesCommandOutput = await budget.call(() =>
            deps.cloudformation.send(
              // The stack's id, not its name: a name may be reused by a newer stack meanwhile.
              new ListStackResourcesCommand({
                StackName: stack.StackId ?? stackName,
                NextToken: resourceToken,
              }),
            ),
          );
          for (const resource of resources.StackResourceSummaries ?? []) {
            if (resource.ResourceType !== SCHEDULE_RESOURCE_TYPE) continue;
            // A resource not created yet (or failed to create) has no physical ID: it owns nothing yet.
            if (!resource.PhysicalResourceId) continue;
            names.push(resource.PhysicalResourceId);
            if (options.withLogicalIds && resource.LogicalResourceId) {
              logicalIds[stackName] ??= {};
              logicalIds[stackName][resource.PhysicalResourceId] = resource.LogicalResourceId;
            }
          }
          resourcesToken = resources.NextToken || undefined;
        } while (resourcesToken);
        index.stacksRead += 1;
        if (names.length > 0) {
          declared += names.length;
          if (declared > settings.maxSchedules) return incomplete(index, budget, 'maxSchedules');
          index.stacks[stackName] = [...(index.stacks[stackName] ?? []), ...names];
        }
      }
      stacksToken = page.NextToken || undefined;
    } while (stacksToken);
  } catch (error) {
    deps.log.warn('reading CloudFormation ownership failed; schedules not found in it are kept as unknown', {
      error: safeError(error),
      stacksRead: index.stacksRead,
    });
    return incomplete(index, budget, errorName(error));
  }
  index.complete = true;
  index.requests = budget.stats.requests;
  return index;
}

function incomplete(index: OwnershipIndex, budget: RequestBudget, reason: string): OwnershipIndex {
  return { ...index, complete: false, incompleteBecause: reason, requests: budget.stats.requests };
}

function errorName(error: unknown): string {
  return error instanceof Error && error.name && error.name !== 'Error' ? error.name : 'Error';
}

// ----- the cache in the state table

export interface OwnershipCacheDeps extends OwnershipReadDeps {
  dynamodb: DynamoDBClient;
  /** The state table (pk only). The index lives under `cfn#index` and `cfn#index#<readAt>#<n>`. */
  table: string;
}

export interface OwnershipLoadResult {
  lookup: OwnershipLookup;
  /** Where the index came from: the cache, a fresh read, or nowhere (every answer 'unknown'). */
  source: 'cache' | 'cloudformation' | 'none';
}

/**
 * The ownership lookup for a run: the cached index while it is younger than refreshEveryMs, else a
 * fresh read from CloudFormation, which is then cached. A fresh read that fails entirely (not even
 * ListStacks answered) leaves the older cached index in use, if any: a schedule created since it
 * was read is 'unknown' anyway. Never throws.
 */
export async function loadOwnership(
  deps: OwnershipCacheDeps,
  options: OwnershipReadOptions & { refreshEveryMs?: number } = {},
): Promise<OwnershipLoadResult> {
  const refreshEveryMs = options.refreshEveryMs ?? OWNERSHIP_DEFAULTS.refreshEveryMs;
  const documents = DynamoDBDocumentClient.from(deps.dynamodb);
  const cached = await readCachedIndex(documents, deps.table).catch((error: unknown) => {
    deps.log.warn('reading the cached CloudFormation ownership failed; reading CloudFormation', {
      error: safeError(error),
    });
    return undefined;
  });
  const now = deps.clock().getTime();
  if (cached && now - Date.parse(cached.readAt) < refreshEveryMs && now >= Date.parse(cached.readAt)) {
    return { lookup: createOwnershipLookup(cached), source: 'cache' };
  }
  const fresh = await readOwnershipIndex(deps, options);
  const readNothing = !fresh.complete && fresh.stacksRead === 0;
  if (readNothing && cached) {
    return { lookup: createOwnershipLookup(cached), source: 'cache' };
  }
  // Cached even when incomplete or empty-handed: the cadence holds, so a denied or throttled account
  // is asked again only after refreshEveryMs, not on every run.
  await writeCachedIndex(documents, deps.table, fresh, refreshEveryMs).catch((error: unknown) =>
    deps.log.warn('caching the CloudFormation ownership failed; the next run reads CloudFormation again', {
      error: safeError(error),
    }),
  );
  if (readNothing) return { lookup: createOwnershipLookup(undefined), source: 'none' };
  return { lookup: createOwnershipLookup(fresh), source: 'cloudformation' };
}

interface HeadItem {
  pk: string;
  readAt: string;
  complete: boolean;
  incompleteBecause?: string;
  stacksRead: number;
  requests: number;
  parts: number;
  ttl: number;
}

async function readCachedIndex(
  documents: DynamoDBDocumentClient,
  table: string,
): Promise<OwnershipIndex | undefined> {
  const head = (
    await documents.send(
      new GetCommand({ TableName: table, Key: { pk: OWNERSHIP_INDEX_KEY }, ConsistentRead: true }),
    )
  ).Item as HeadItem | undefined;
  if (!head || typeof head.readAt !== 'string' || !Number.isInteger(head.parts)) return undefined;
  const stacks: Record<string, string[]> = Object.create(null);
  for (let part = 0; part < head.parts; part += 1) {
    const item = (
      await documents.send(
        new GetCommand({ TableName: table, Key: { pk: partKey(head.readAt, part) }, ConsistentRead: true }),
      )
    ).Item as { stacks?: string } | undefined;
    // A part missing (expired, or never written) makes the whole cache unusable rather than partial.
    if (typeof item?.stacks !== 'string') return undefined;
    Object.assign(stacks, JSON.parse(item.stacks) as Record<string, string[]>);
  }
  return {
    readAt: head.readAt,
    complete: head.complete === true,
    ...(head.incompleteBecause ? { incompleteBecause: head.incompleteBecause } : {}),
    stacks,
    stacksRead: head.stacksRead,
    requests: head.requests,
  };
}

/** Parts first, then the head that names them: a reader never meets a head whose parts are missing. */
async function writeCachedIndex(
  documents: DynamoDBDocumentClient,
  table: string,
  index: OwnershipIndex,
  refreshEveryMs: number,
): Promise<void> {
  // Parts outlive the head's refresh by a day, then DynamoDB's TTL removes them.
  const ttl = Math.ceil((Date.parse(index.readAt) + refreshEveryMs + 86_400_000) / 1000);
  const parts: Record<string, string[]>[] = [];
  let current: Record<string, string[]> = {};
  let bytes = 0;
  for (const [stack, names] of Object.entries(index.stacks)) {
    const size = JSON.stringify([stack, names]).length;
    if (bytes > 0 && bytes + size > PART_BYTES) {
      parts.push(current);
      current = {};
      bytes = 0;
    }
    current[stack] = names;
    bytes += size;
  }
  if (bytes > 0) parts.push(current);
  for (const [part, stacks] of parts.entries()) {
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: { pk: partKey(index.readAt, part), stacks: JSON.stringify(stacks), ttl },
      }),
    );
  }
  const head: HeadItem = {
    pk: OWNERSHIP_INDEX_KEY,
    readAt: index.readAt,
    complete: index.complete,
    ...(index.incompleteBecause ? { incompleteBecause: index.incompleteBecause } : {}),
    stacksRead: index.stacksRead,
    requests: index.requests,
    parts: parts.length,
    ttl,
  };
  await documents.send(new PutCommand({ TableName: table, Item: head }));
}

function partKey(readAt: string, part: number): string {
  return `${OWNERSHIP_INDEX_KEY}#${Date.parse(readAt)}#${part}`;
}
