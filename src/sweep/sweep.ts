// One segment of a sweep: list every schedule in scope from a cursor, judge each one, pass the
// finished ones through the delete gate, count every outcome in the ledger, and report where a later
// run resumes. Streams with bounded memory, never lets one bad item abort the run, and always
// reports what it counted. The stages, each in its own file:
//
//   listing.ts  pages read ahead of the work (ListSchedules through its budget)
//   judge.ts    protection, memory, GetSchedule, decide() → an outcome, or a candidate to delete
//   gate.ts     every precondition of a delete, checked at the moment the request leaves
//   ledger.ts   the one place counts change (and the tallies of finished schedules' producers)
//   pages.ts    the resume point: settled pages → cursor
//   cadence.ts  checkpoints while the sweep runs, and the deletion allowance they bound
//
// This file holds the segment's state (SegmentState) and the functions that move items between the
// stages; the lifecycle across invocations (lease, resume, hand-off, end) is in run.ts.
import { randomUUID } from 'node:crypto';
import { ListSchedulesCommand, type ScheduleSummary } from '@aws-sdk/client-scheduler';
import pLimit from 'p-limit';
import { isNextTokenRejected, isNotFound, MAX_LISTING_RESTARTS, RequestBudget } from '../aws/budget.ts';
import { safeError, scheduleRef } from '../redact.ts';
import { type CheckpointCadence, createCheckpointCadence } from './cadence.ts';
import { type DeletionAllowance, type GateContext, passGate, RECHECK_AFTER_MS } from './gate.ts';
import { isRecallable, type JudgeContext, judge, type Listing } from './judge.ts';
import {
  closeListing,
  derived,
  dropListing,
  emptyCounts,
  emptyTallies,
  listingKey,
  mergeCounts,
  readTallies,
  record,
  recordTallies,
  serializeTallies,
  type Tallies,
  takeBack,
  talliesView,
} from './ledger.ts';
import { LIST_LOOKAHEAD_PAGES, type ListedPage, ReadAheadListing } from './listing.ts';
import { publishSweepMetrics } from './metrics.ts';
import {
  CheckpointRefused,
  type GroupProgress,
  type ItemOutcome,
  MAX_PAGES_SPANNED,
  PAGE_SIZE,
  type RecalledOutcome,
  StopReason,
  type SweepCounts,
  type SweepCursor,
  type SweepDeps,
  type SweepOptions,
  type SweepSnapshot,
  type SweepSummary,
  type SweepTallies,
} from './model.ts';
import { dropSettledPages, groupOfArn, type PageRecord, resumeCursor, settledCursor } from './pages.ts';
import { refuseTombstones } from './tombstones.ts';

export { CHECKPOINT_FAILURES_TO_STOP } from './cadence.ts';
export { isRefusal, RECHECK_AFTER_MS } from './gate.ts';
export { isKmsAccessDenied } from './judge.ts';
export { emptyCounts } from './ledger.ts';
export {
  type CheckpointPolicy,
  CheckpointRefused,
  CheckpointStop,
  CheckpointUnavailable,
  type GroupProgress,
  type ItemOutcome,
  type KeptCounts,
  MAX_PAGES_SPANNED,
  PAGE_SIZE,
  type RecalledOutcome,
  type SkipReasonName,
  StopReason,
  type SweepCounts,
  type SweepCursor,
  type SweepDeps,
  type SweepKnowledge,
  type SweepOptions,
  type SweepProgress,
  type SweepSnapshot,
  type SweepSummary,
  type SweepTallies,
} from './model.ts';
export { MAX_LISTING_RESTARTS };

type Budgets = Record<'list' | 'get' | 'delete', RequestBudget>;
type Answers = Promise<Map<string, RecalledOutcome> | undefined>;

/** Items listed and not settled: the page loop waits on it to keep memory bounded. */
interface InFlight {
  count: number;
  /** Per group: a snapshot counts only what settled. */
  byGroup: Map<string, number>;
  wake?: () => void;
}

/** Everything one segment knows while it runs; passed to each stage function, never captured. */
interface SegmentState {
  deps: SweepDeps;
  options: SweepOptions;
  started: number;
  budgets: Budgets;
  counts: SweepCounts;
  /** Finished schedules per producer and owning stack (the ledger's tallies), carried like counts. */
  tallies: Tallies;
  groups: Map<string, GroupProgress>;
  /** The listings in order: the configured groups, or one listing of every group (undefined). */
  scopes: (string | undefined)[];
  /** The sweep began at the very first page: nothing before its cursor was skipped. */
  fromStart: boolean;
  pages: PageRecord[];
  /** ARNs an earlier run counted on pages not listed again yet. */
  skip: Set<string>;
  listCursor: SweepCursor;
  listedEverything: boolean;
  stoppedBy?: StopReason;
  failure?: unknown;
  inFlight: InFlight;
  /** GetSchedule re-reads the gate made (SweepSummary.requests.rereads). */
  rereads: number;
  limit: ReturnType<typeof pLimit>;
  judging: JudgeContext;
  gate: GateContext;
  cadence: CheckpointCadence;
}

export async function sweep(deps: SweepDeps, options: SweepOptions): Promise<SweepSummary> {
  if (!options.dryRun && !deps.tombstones) {
    // No tombstone, no delete: refused before the first request rather than failing item by item.
    throw new Error(
      'A sweep that deletes needs a tombstone store (SWEEP_TOMBSTONE_TABLE); only a dry run may go without',
    );
  }
  const state = startSegment(deps, options);
  try {
    await listEveryScope(state);
  } catch (error) {
    state.failure = error;
    state.stoppedBy = StopReason.error;
  } finally {
    await drain(state);
  }
  const summary = summarize(state);
  if (options.report) await options.report(summary);
  else await publishSweepMetrics(deps, options.namespace, summary);
  if (state.failure !== undefined) {
    deps.log.error('sweep failed', { error: safeError(state.failure), summary });
    throw state.failure;
  }
  return summary;
}

function startSegment(deps: SweepDeps, options: SweepOptions): SegmentState {
  const tuning = options.budgetTuning ?? {};
  const budgets: Budgets = {
    list: new RequestBudget('ListSchedules', { ...tuning, ratePerSecond: options.budgets.list }),
    get: new RequestBudget('GetSchedule', { ...tuning, ratePerSecond: options.budgets.get }),
    delete: new RequestBudget('DeleteSchedule', { ...tuning, ratePerSecond: options.budgets.delete }),
  };
  const start = options.cursor ?? { groupIndex: 0 };
  const { signal } = options;
  const judging: JudgeContext = {
    scheduler: deps.scheduler,
    clock: deps.clock,
    log: deps.log,
    getBudget: budgets.get,
    graceMs: options.graceMinutes * 60_000,
    keepDisabled: options.keepDisabled,
    ...(deps.protection ? { protection: deps.protection } : {}),
    ...(deps.ownership ? { ownership: deps.ownership } : {}),
    ...(signal ? { signal } : {}),
    ...(deps.elapsed ? { now: deps.elapsed } : {}),
  };
  const state = {
    deps,
    options,
    started: performance.now(),
    budgets,
    counts: mergeCounts(emptyCounts(), options.startingCounts),
    tallies: startingTallies(options.startingTallies, listingKey(scopesOf(options)[start.groupIndex])),
    groups: new Map(
      Object.entries(options.startingProgress?.groups ?? {}).map(([name, progress]) => [
        name,
        structuredClone(progress),
      ]),
    ),
    scopes: scopesOf(options),
    // A cursor without carried progress is a bare resume point: whatever came before it is unknown.
    fromStart: options.cursor === undefined || (options.startingProgress?.fromStart ?? false),
    pages: [],
    skip: new Set(start.skip ?? []),
    listCursor: { ...start },
    listedEverything: false,
    inFlight: { count: 0, byGroup: new Map() },
    rereads: 0,
    limit: pLimit(options.concurrency),
    judging,
  } as Omit<SegmentState, 'gate' | 'cadence'> as SegmentState;
  state.cadence = createCheckpointCadence(options.checkpoint, {
    snapshot: () => snapshot(state),
    log: deps.log,
    ...(signal ? { signal } : {}),
    onStop: (error) => {
      if (error instanceof CheckpointRefused) {
        state.failure ??= error;
        state.stoppedBy = StopReason.error;
      } else state.stoppedBy ??= StopReason.time;
    },
  });
  state.gate = {
    scheduler: deps.scheduler,
    clock: deps.clock,
    log: deps.log,
    budgets: { get: budgets.get, delete: budgets.delete },
    dryRun: options.dryRun,
    graceMs: judging.graceMs,
    keepDisabled: options.keepDisabled,
    tombstones: deps.tombstones ?? refuseTombstones(),
    ...(deps.protection ? { protection: deps.protection } : {}),
    ...(deps.ownership ? { ownership: deps.ownership } : {}),
    allowance: deletionAllowance(state),
    permit: (arn) => state.cadence.permit(arn),
    ...(signal ? { signal } : {}),
    runId: options.runId ?? randomUUID(),
    recheckAfterMs: options.recheckAfterMs ?? RECHECK_AFTER_MS,
    ...(deps.elapsed ? { now: deps.elapsed } : {}),
  };
  return state;
}

/** The listings in order: the configured groups, or one listing of every group (undefined). */
function scopesOf(options: SweepOptions): (string | undefined)[] {
  return options.groups.length > 0 ? options.groups : [undefined];
}

/**
 * The carried tallies, checked as a continuation's are (a caller may pass its own), the carried
 * listing's under the listing the cursor resumes in; empty without.
 */
function startingTallies(carried: SweepTallies | undefined, resumed: string): Tallies {
  return carried ? readTallies(carried, 'startingTallies', resumed) : emptyTallies();
}

/** The listing a schedule of this group is counted under (see listingKey). */
function listingOf(state: SegmentState, groupName: string): string {
  return listingKey(state.options.groups.length > 0 ? groupName : undefined);
}

/** The listing the cursor is in; past the last scope, none. */
function listingAt(state: SegmentState, groupIndex: number): string | undefined {
  if (groupIndex >= state.scopes.length) return undefined;
  return listingKey(state.scopes[groupIndex]);
}

/** maxDeletes over this segment; the last claim ends the sweep, outranking a stop for time. */
function deletionAllowance(state: SegmentState): DeletionAllowance {
  const { maxDeletes } = state.options;
  let reserved = 0;
  return {
    reserve() {
      if (maxDeletes === undefined) return true;
      if (reserved >= maxDeletes) {
        // None left (a resumed sweep whose earlier deletes used the cap up): a finished schedule
        // stays unprocessed, so the sweep cannot be complete.
        if (state.stoppedBy !== StopReason.error) state.stoppedBy = StopReason.maxDeletes;
        return false;
      }
      reserved += 1;
      // Nothing further is picked up once the last is claimed: a stop for time would otherwise invite
      // a resumed run that has nothing left to delete.
      if (reserved >= maxDeletes && state.stoppedBy !== StopReason.error)
        state.stoppedBy = StopReason.maxDeletes;
      return true;
    },
    release() {
      if (maxDeletes !== undefined) reserved -= 1;
    },
  };
}

function groupProgress(state: SegmentState, name: string): GroupProgress {
  let entry = state.groups.get(name);
  if (!entry) {
    entry = { seen: 0, removed: 0, fromFirstPage: false, listed: false, unprocessed: false };
    state.groups.set(name, entry);
  }
  return entry;
}

// ---- Listing: every scope, page by page -------------------------------------------------------

async function listEveryScope(state: SegmentState): Promise<void> {
  const start = state.options.cursor ?? { groupIndex: 0 };
  let reader: ReadAheadListing<Answers> | undefined;
  try {
    for (let groupIndex = start.groupIndex; groupIndex < state.scopes.length; groupIndex += 1) {
      const nextToken = groupIndex === start.groupIndex ? start.nextToken : undefined;
      reader?.close();
      const listed = await listScope(state, groupIndex, nextToken, (opened) => {
        reader = opened;
      });
      if (!listed) return;
      const scheduleGroup = state.scopes[groupIndex];
      if (scheduleGroup !== undefined && groupProgress(state, scheduleGroup).fromFirstPage) {
        groupProgress(state, scheduleGroup).listed = true;
      }
      state.listCursor = { groupIndex: groupIndex + 1 };
    }
    // Past the last scope only when no stop broke the loop (maxDeletes may still be reached later).
    state.listedEverything = state.listCursor.groupIndex >= state.scopes.length;
  } finally {
    reader?.close();
  }
}

/** Whether the segment must stop listing now; sets the reason. */
function stopping(state: SegmentState): boolean {
  if (state.stoppedBy) return true;
  if (state.options.shouldStop?.() || state.options.signal?.aborted) {
    state.stoppedBy = StopReason.time;
    return true;
  }
  return false;
}

/**
 * Lists one scope from `nextToken` to its last page, enqueuing each page's items. False when the
 * segment stopped meanwhile (time, maxDeletes, an error). A NextToken the service refuses restarts
 * the listing from its first page, at most MAX_LISTING_RESTARTS times.
 */
async function listScope(
  state: SegmentState,
  groupIndex: number,
  firstToken: string | undefined,
  opened: (reader: ReadAheadListing<Answers>) => void,
): Promise<boolean> {
  const scheduleGroup = state.scopes[groupIndex];
  let nextToken = firstToken;
  if (scheduleGroup !== undefined && nextToken === undefined)
    groupProgress(state, scheduleGroup).fromFirstPage = true;
  let reader = readAhead(state, scheduleGroup, nextToken);
  opened(reader);
  let restarts = 0;
  for (;;) {
    state.listCursor = { groupIndex, ...(nextToken === undefined ? {} : { nextToken }) };
    if (stopping(state)) return false;
    let listed: ListedPage<Answers>;
    try {
      listed = await reader.next();
    } catch (error) {
      if (state.options.signal?.aborted) {
        state.stoppedBy = StopReason.time;
        return false;
      }
      if (scheduleGroup !== undefined && isNotFound(error)) {
        // A configured group that does not exist holds no schedules; the others still get swept.
        state.deps.log.warn('schedule group not found', { group: scheduleGroup });
        return true;
      }
      if (!isNextTokenRejected(error, nextToken) || restarts >= MAX_LISTING_RESTARTS) throw error;
      if (!restartable(state, scheduleGroup)) throw error;
      reader.close();
      if (!(await restartListing(state, scheduleGroup))) return false;
      restarts += 1;
      state.deps.log.warn(
        'ListSchedules refused the NextToken; the listing starts over from its first page',
        {
          group: scheduleGroup ?? '(every group)',
          restart: restarts,
          error: safeError(error),
        },
      );
      nextToken = undefined;
      reader = readAhead(state, scheduleGroup, nextToken);
      opened(reader);
      continue;
    }
    nextToken = listed.page.NextToken || undefined;
    await enqueuePage(state, listed, {
      cursor: state.listCursor,
      next: nextToken === undefined ? { groupIndex: groupIndex + 1 } : { groupIndex, nextToken },
    });
    if (nextToken === undefined) return true;
  }
}

/**
 * One listing, read ahead of the page loop: each page is requested as soon as the one before it
 * arrives (ListSchedules is a NextToken chain, one request in flight), up to LIST_LOOKAHEAD_PAGES
 * ahead, and its memory read starts when it arrives. Nothing is sent ahead once the sweep is stopping.
 */
function readAhead(state: SegmentState, scheduleGroup: string | undefined, token: string | undefined) {
  const { options, budgets, deps } = state;
  const { signal } = options;
  // The page loop is written out rather than using paginateListSchedules: the paginator calls
  // client.send itself, and every ListSchedules request must pass through the List budget.
  const listPage = (next: string | undefined) =>
    budgets.list.call(
      () =>
        deps.scheduler.send(
          new ListSchedulesCommand({
            MaxResults: PAGE_SIZE,
            ...(scheduleGroup === undefined ? {} : { GroupName: scheduleGroup }),
            ...(options.namePrefix === undefined ? {} : { NamePrefix: options.namePrefix }),
            ...(next === undefined ? {} : { NextToken: next }),
          }),
          signal ? { abortSignal: signal } : {},
        ),
      signal ? { signal } : {},
    );
  return new ReadAheadListing({
    list: listPage,
    nextToken: token,
    depth: LIST_LOOKAHEAD_PAGES,
    // (shouldStop is the page loop's to ask, once per page, as its callers count on.)
    proceed: () => !state.stoppedBy && !signal?.aborted,
    // What an earlier run counted is passed over (and taken out of `skip` when the page is worked on).
    onListed: (page) =>
      recall(
        state,
        (page.Schedules ?? []).filter((item) => !state.skip.has(item.Arn ?? '')),
      ),
  });
}

/** One memory read per page. Memory only spares lookups: when it cannot answer, every item is looked up. */
async function recall(state: SegmentState, items: ScheduleSummary[]): Answers {
  const { knowledge, log } = state.deps;
  if (!knowledge || items.length === 0) return undefined;
  try {
    const answers = await knowledge.recall(items);
    // Checked here, not trusted: an answer that could lead to a deletion is never taken from memory.
    for (const [arn, answer] of answers) if (!isRecallable(answer)) answers.delete(arn);
    return answers;
  } catch (error) {
    log.warn('recalling earlier lookups failed; looking the page up', { error: safeError(error) });
    return undefined;
  }
}

/**
 * Whether a listing may start over from its first page without counting anything twice: only
 * when all it counted is known (it began at its first page in this sweep, with progress carried).
 */
function restartable(state: SegmentState, scheduleGroup: string | undefined): boolean {
  return scheduleGroup === undefined ? state.fromStart : groupProgress(state, scheduleGroup).fromFirstPage;
}

/**
 * Sets a listing back to its first page once what it listed settled: what it counted of schedules it
 * kept is taken back from the totals and from `skip` (the re-list counts them again); what it
 * removed stays counted, as those schedules will not be listed again. False if the sweep stopped.
 */
async function restartListing(state: SegmentState, scheduleGroup: string | undefined): Promise<boolean> {
  await waitForInFlight(state, 0);
  dropSettledPages(state.pages);
  if (stopping(state)) return false;
  const restarted =
    scheduleGroup === undefined ? [...state.groups.values()] : [groupProgress(state, scheduleGroup)];
  dropListing(state.tallies, listingKey(scheduleGroup));
  for (const group of restarted) {
    takeBack(state.counts, group.kept);
    group.seen = group.removed;
    delete group.kept;
  }
  if (scheduleGroup === undefined) state.skip.clear();
  else for (const arn of state.skip) if (groupOfArn(arn) === scheduleGroup) state.skip.delete(arn);
  return true;
}

// ---- Items: judge → gate → ledger ---------------------------------------------------------------

/** Records a listed page and sets its items going; returns once the page loop may list on. */
async function enqueuePage(
  state: SegmentState,
  listed: ListedPage<Answers>,
  where: Pick<PageRecord, 'cursor' | 'next'>,
): Promise<void> {
  const schedules = listed.page.Schedules ?? [];
  const items = schedules.filter((item) => !state.skip.has(item.Arn ?? ''));
  const passed = schedules.filter((item) => state.skip.has(item.Arn ?? '')).map((item) => item.Arn ?? '');
  for (const arn of passed) state.skip.delete(arn);
  const page: PageRecord = { ...where, remaining: items.length, unprocessed: 0, done: [], passed };
  // Recorded before its memory read is awaited: a checkpoint taken meanwhile resumes at this page.
  state.pages.push(page);
  // Its memory read began when it arrived, while the pages before it were worked on.
  const answers = await listed.extra;
  for (const summary of items) enqueueItem(state, summary, page, answers?.get(summary.Arn ?? ''));
  // At most one page of items waits while the next is worked on, and the listing goes on meanwhile,
  // up to LIST_LOOKAHEAD_PAGES ahead: memory flat (see "Pages held" in src/sweep/README.md).
  await waitForInFlight(state, PAGE_SIZE);
  await holdWhileSpanFull(state);
}

function enqueueItem(
  state: SegmentState,
  summary: ScheduleSummary,
  page: PageRecord,
  recalled: RecalledOutcome | undefined,
): void {
  const groupName = summary.GroupName ?? 'default';
  const listing: Listing = {
    group: state.scopes[page.cursor.groupIndex],
    namePrefix: state.options.namePrefix,
  };
  groupProgress(state, groupName).seen += 1;
  const { inFlight } = state;
  inFlight.byGroup.set(groupName, (inFlight.byGroup.get(groupName) ?? 0) + 1);
  inFlight.count += 1;
  void state
    .limit(async () =>
      settle(state, summary, page, recalled, await process(state, summary, recalled, listing)),
    )
    .finally(() => {
      inFlight.count -= 1;
      const wake = inFlight.wake;
      inFlight.wake = undefined;
      wake?.();
    });
}

/** One schedule's way through the stages: judged, and if finished, through the gate. */
async function process(
  state: SegmentState,
  summary: ScheduleSummary,
  recalled: RecalledOutcome | undefined,
  listing: Listing,
): Promise<ItemOutcome> {
  if (state.stoppedBy === StopReason.maxDeletes) return { kind: 'notProcessed' };
  if (state.options.signal?.aborted) return { kind: 'abandoned' };
  const verdict = await judge(summary, recalled, state.judging, listing);
  if (verdict === recalled) return verdict;
  let outcome: ItemOutcome;
  try {
    outcome =
      verdict.kind === 'candidate'
        ? { ...(await passGate(verdict, state.gate)), foundFinished: { stuck: verdict.decision.stuck } }
        : verdict;
  } catch (error) {
    // A bug in the gate must cost one item, never the run; the gate settles its tombstone itself.
    state.deps.log.error('schedule inspection failed', { ...scheduleRef(summary), error: safeError(error) });
    const foundFinished = verdict.kind === 'candidate' ? { stuck: verdict.decision.stuck } : undefined;
    return { kind: 'failed', operation: 'DeleteSchedule', ...(foundFinished ? { foundFinished } : {}) };
  }
  await learn(state, summary, outcome);
  return outcome;
}

async function learn(state: SegmentState, summary: ScheduleSummary, outcome: ItemOutcome): Promise<void> {
  try {
    await state.deps.knowledge?.learn(summary, outcome);
  } catch (error) {
    state.deps.log.warn('remembering a lookup failed', { ...scheduleRef(summary), error: safeError(error) });
  }
}

/** Counts a settled item (the ledger), marks its page, and tells the checkpoint cadence. */
function settle(
  state: SegmentState,
  summary: ScheduleSummary,
  page: PageRecord,
  recalled: RecalledOutcome | undefined,
  outcome: ItemOutcome,
): void {
  const groupName = summary.GroupName ?? 'default';
  const group = groupProgress(state, groupName);
  const fromMemory = recalled !== undefined && outcome === recalled;
  record(state.counts, group, outcome, fromMemory);
  const listing = listingOf(state, groupName);
  recordTallies(state.tallies, listing, summary, outcome);
  state.rereads += outcome.rereads ?? 0;
  if (outcome.kind === 'notProcessed') {
    page.unprocessed += 1;
    group.unprocessed = true;
  } else if (outcome.kind === 'abandoned') {
    // Seen again, and counted then, when the continuation lists this page again.
    page.unprocessed += 1;
    group.seen -= 1;
  } else page.done.push(summary.Arn ?? '');
  page.remaining -= 1;
  const left = (state.inFlight.byGroup.get(groupName) ?? 1) - 1;
  state.inFlight.byGroup.set(groupName, left);
  // Its group's listing is over and nothing of it is in flight: no restart can take its tallies back.
  if (left === 0 && listing !== listingAt(state, state.listCursor.groupIndex))
    closeListing(state.tallies, listing);
  state.cadence.settled(summary.Arn ?? `${groupName}/${summary.Name ?? ''}`);
}

async function waitForInFlight(state: SegmentState, threshold: number): Promise<void> {
  const { inFlight } = state;
  while (inFlight.count > threshold) await new Promise<void>((resolve) => (inFlight.wake = resolve));
}

/**
 * Drops the settled pages at the head, then waits while the pages from the first one not settled to
 * the last one listed span MAX_PAGES_SPANNED or more: one slow item (a latency spike, retries) holds
 * every page after its own, whose counted ARNs a cursor must carry in `skip`. The bound keeps that
 * under MAX_SKIPPED_ARNS and memory flat whatever the account's size.
 */
async function holdWhileSpanFull(state: SegmentState): Promise<void> {
  const { pages, inFlight } = state;
  dropSettledPages(pages);
  while (pages.length >= MAX_PAGES_SPANNED && inFlight.count > 0) {
    await new Promise<void>((resolve) => (inFlight.wake = resolve));
    dropSettledPages(pages);
  }
}

// ---- The end: drain, then summarize -----------------------------------------------------------

/** Waits for every item in flight, their tombstone outcomes and a checkpoint being saved. */
async function drain(state: SegmentState): Promise<void> {
  await waitForInFlight(state, 0);
  // Outcomes still being recorded on tombstones are settled before the summary claims anything.
  await state.gate.tombstones.flush();
  await state.cadence.stop();
}

/** The progress of every settled item, as a continuation handed on right now would carry it. */
function snapshot(state: SegmentState): SweepSnapshot {
  const cursor = settledCursor(state.pages, state.listCursor, state.skip);
  const progress: Record<string, GroupProgress> = Object.create(null);
  for (const [name, tally] of state.groups) {
    progress[name] = {
      ...structuredClone(tally),
      seen: tally.seen - (state.inFlight.byGroup.get(name) ?? 0),
    };
  }
  // The listing resumes inside this group: it is not listed to its end yet.
  const resumedGroup = state.scopes[cursor.groupIndex];
  if (resumedGroup !== undefined && progress[resumedGroup]) progress[resumedGroup].listed = false;
  return {
    cursor,
    counts: structuredClone(state.counts),
    progress: { groups: progress, fromStart: state.fromStart },
    tallies: serializeTallies(state.tallies, listingAt(state, cursor.groupIndex)),
    requests: requestCounts(state),
    throttled: throttledCount(state.budgets),
    durationSeconds: Math.round(performance.now() - state.started) / 1000,
  };
}

function summarize(state: SegmentState): SweepSummary {
  if (state.stoppedBy === StopReason.maxDeletes && state.listedEverything) {
    // maxDeletes was reached on the very last items: it only matters if something was left over.
    const leftOver = state.pages.some((page) => page.unprocessed > 0);
    if (!leftOver) state.stoppedBy = undefined;
  }
  const complete = state.stoppedBy === undefined;
  const { counts, options } = state;
  const cursor = complete ? undefined : resumeCursor(state.pages, state.listCursor, state.skip);
  return {
    ...counts,
    ...derived(counts),
    throttled: throttledCount(state.budgets),
    requests: requestCounts(state),
    durationSeconds: Math.round(performance.now() - state.started) / 1000,
    dryRun: options.dryRun,
    complete,
    ...(state.stoppedBy ? { stoppedBy: state.stoppedBy } : {}),
    ...(cursor ? { cursor } : {}),
    scheduleCounts: countSchedules(state.groups, {
      allGroups: options.groups.length === 0,
      namePrefix: options.namePrefix,
      // Sweeping every group at once: whole only when listed from the very first page to the end.
      everythingListed: state.listedEverything && state.fromStart,
    }),
    progress: { groups: Object.fromEntries(state.groups), fromStart: state.fromStart },
    ...talliesView(state.tallies, cursor ? listingAt(state, cursor.groupIndex) : undefined),
  };
}

function requestCounts({ budgets, rereads }: SegmentState): SweepSummary['requests'] {
  return {
    ListSchedules: budgets.list.stats.requests,
    GetSchedule: budgets.get.stats.requests,
    DeleteSchedule: budgets.delete.stats.requests,
    rereads,
  };
}

function throttledCount(budgets: Budgets): number {
  return budgets.list.stats.throttled + budgets.get.stats.throttled + budgets.delete.stats.throttled;
}

/**
 * Schedules present after the sweep (seen minus removed), only where the count is whole: `total`
 * when every group was covered with no name filter, `byGroup` for each group fully covered.
 */
function countSchedules(
  groups: Map<string, GroupProgress>,
  scope: { allGroups: boolean; namePrefix: string | undefined; everythingListed: boolean },
): SweepSummary['scheduleCounts'] {
  // A name filter sees only part of each group: no count would be whole.
  if (scope.namePrefix !== undefined) return { byGroup: {} };
  const byGroup: Record<string, number> = Object.create(null); // a group may be named "__proto__"
  let total = 0;
  let whole = scope.allGroups && scope.everythingListed;
  for (const [name, tally] of groups) {
    const covered = (scope.allGroups ? scope.everythingListed : tally.listed) && !tally.unprocessed;
    if (covered) byGroup[name] = tally.seen - tally.removed;
    else whole = false;
    total += tally.seen - tally.removed;
  }
  return whole ? { total, byGroup } : { byGroup };
}
