// The report's producers view (`npm run report -- --view producers`): per account and Region, who
// makes the schedules (the top target ARNs and group × target pairs, from one ListSchedules pass
// with the bounded tally of src/producers/tally.ts), and the finished one-time schedules that
// CloudFormation stacks declare, per stack, so the owning team can remove them from its template
// (a sweep keeps them: deleting one breaks the stack's next update).
//
// Per cell, read-only: ListStacks and ListStackResources (src/ownership/cloudformation.ts, no cache),
// ListSchedules once, and GetSchedule only for the schedules a stack declares, each decided as the
// sweeper decides (src/schedule/decide.ts with the sweeper's default grace and DISABLED handling).
// Memory: the tally (a few KB) plus the declared schedules present, bounded by the ownership
// index's 50,000 names.
import { GetScheduleCommand, ListSchedulesCommand, type ScheduleSummary } from '@aws-sdk/client-scheduler';
import pLimit from 'p-limit';
import { isNotFound, RequestBudget } from '../aws/budget.ts';
import { partitionOf } from '../org/stackset-package.ts';
import {
  createOwnershipLookup,
  type OwnershipIndex,
  readOwnershipIndex,
} from '../ownership/cloudformation.ts';
import { countSchedule, createProducerTally, splitPair, topOf } from '../producers/tally.ts';
import { decide } from '../schedule/decide.ts';
import { answersFor, scheduleArn } from '../schedule/name.ts';
import type { Cell, CellClients, CellOutcome, ReportDeps } from './report.ts';

export const PRODUCERS_VIEW_DEFAULTS = {
  /** Targets and pairs listed per cell. */
  top: 10,
  /** CloudFormation requests per second per cell (ListStacks and ListStackResources together). */
  cloudformationPerSecond: 2,
} as const;

export interface ProducerRow {
  targetArn: string;
  /** Schedules, at least (exact when `uncertainty` is 0). */
  count: number;
  uncertainty: number;
  /** count / the cell's schedules × 100. */
  percent: number;
}

export interface StackFindings {
  stack: string;
  /** Schedules the stack declares (ListStackResources). */
  declared: number;
  /** Of those, present in ListSchedules (by name, in any group). */
  present: number;
  /** Finished one-time schedules among them: what the team can remove from its template. */
  finished: { name: string; group: string; logicalId?: string }[];
  /** Declared schedules whose GetSchedule failed (KMS denied, throttled): neither finished nor live is known. */
  undecided: number;
}

export interface ProducersCellResult extends CellOutcome {
  scheduleCount?: number;
  producers?: ProducerRow[];
  /** Schedules of every target not listed. */
  otherTargets?: number;
  pairs?: (ProducerRow & { group: string })[];
  cloudformation?: {
    /** Every stack's resources were read; otherwise `incompleteBecause` names why (AccessDenied, ...). */
    complete: boolean;
    incompleteBecause?: string;
    stacks: StackFindings[];
  };
  requests?: { ListSchedules: number; GetSchedule: number; CloudFormation: number };
}

export interface ProducersViewOptions {
  listPerSecond: number;
  getPerSecond: number;
  concurrency: number;
  graceMinutes: number;
  keepDisabled: boolean;
  top?: number;
  cloudformationPerSecond?: number;
}

/** One cell of the producers view. Throws what ListSchedules throws after its budget's retries. */
export async function producersCell(
  clients: CellClients,
  cell: Cell,
  deps: Pick<ReportDeps, 'clock' | 'log'>,
  options: ProducersViewOptions,
): Promise<ProducersCellResult> {
  const top = options.top ?? PRODUCERS_VIEW_DEFAULTS.top;
  const index: OwnershipIndex | undefined = clients.cloudformation
    ? await readOwnershipIndex(
        { cloudformation: clients.cloudformation, clock: deps.clock, log: deps.log },
        {
          requestsPerSecond:
            options.cloudformationPerSecond ?? PRODUCERS_VIEW_DEFAULTS.cloudformationPerSecond,
          withLogicalIds: true,
          // A report may take its time: every stack is read.
          readBudgetMs: Number.POSITIVE_INFINITY,
        },
      )
    : undefined;
  const owners = createOwnershipLookup(index);
  const declaredNames = new Set(Object.values(index?.stacks ?? {}).flat());

  // The listing: every schedule tallied; the declared ones kept for their lookup.
  const tally = createProducerTally();
  const declaredPresent: ScheduleSummary[] = [];
  const list = new RequestBudget('ListSchedules', { ratePerSecond: options.listPerSecond });
  let nextToken: string | undefined;
  do {
    const token = nextToken;
    const page = await list.call(() =>
      clients.scheduler.send(new ListSchedulesCommand({ MaxResults: 100, NextToken: token })),
    );
    for (const summary of page.Schedules ?? []) {
      countSchedule(tally, summary);
      if (summary.Name && declaredNames.has(summary.Name)) declaredPresent.push(summary);
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken);

  // The declared schedules present: finished or not, decided as the sweeper decides.
  const get = new RequestBudget('GetSchedule', { ratePerSecond: options.getPerSecond });
  const limit = pLimit(options.concurrency);
  const now = deps.clock();
  const byStack = new Map<string, StackFindings>();
  for (const [stack, names] of Object.entries(index?.stacks ?? {})) {
    byStack.set(stack, { stack, declared: names.length, present: 0, finished: [], undecided: 0 });
  }
  await Promise.all(
    declaredPresent.map((summary) =>
      limit(async () => {
        const owner = owners.ownerOf({ Name: summary.Name });
        // ownerOf without a creation date never says "not owned"; declared names always have owners.
        const stacks = owner && owner !== 'unknown' ? owner.stacks : [];
        let finished: boolean | undefined;
        try {
          const definition = await get.call(() =>
            clients.scheduler.send(
              new GetScheduleCommand({ Name: summary.Name, GroupName: summary.GroupName }),
            ),
          );
          // An answer of another schedule (another name, group, account or Region) is no reading
          // of this one: undecided.
          const expected = scheduleArn(
            { partition: partitionOf(cell.region), region: cell.region, account: cell.accountId },
            summary.GroupName ?? 'default',
            summary.Name ?? '',
          );
          const decision = answersFor({ ...summary, Arn: expected }, definition)
            ? decide(definition, now, {
                graceMs: options.graceMinutes * 60_000,
                keepDisabled: options.keepDisabled,
              })
            : undefined;
          finished = decision ? decision.outcome === 'finished' : undefined;
        } catch (error) {
          if (isNotFound(error)) return; // gone since the listing
          finished = undefined;
        }
        for (const stack of stacks) {
          const findings = byStack.get(stack);
          if (!findings) continue;
          findings.present += 1;
          if (finished === undefined) findings.undecided += 1;
          else if (finished) {
            const logicalId = index?.logicalIds?.[stack]?.[summary.Name ?? ''];
            findings.finished.push({
              name: summary.Name ?? '',
              group: summary.GroupName ?? 'default',
              ...(logicalId ? { logicalId } : {}),
            });
          }
        }
      }),
    ),
  );
  for (const findings of byStack.values()) {
    findings.finished.sort((a, b) => compare(a.group, b.group) || compare(a.name, b.name));
  }

  const total = tally.targets.total;
  const percent = (count: number) => (total === 0 ? 0 : Number(((count / total) * 100).toPrecision(6)));
  const targets = topOf(tally.targets, top);
  const cloudformation = index
    ? {
        complete: index.complete,
        ...(index.incompleteBecause ? { incompleteBecause: index.incompleteBecause } : {}),
        stacks: [...byStack.values()].sort(
          (a, b) => b.finished.length - a.finished.length || compare(a.stack, b.stack),
        ),
      }
    : { complete: false, incompleteBecause: 'NoClient', stacks: [] };
  return {
    ...cell,
    // Ownership that could not be read fails the cell: its finished-per-stack list would be short.
    ok: cloudformation.complete,
    ...(cloudformation.complete ? {} : { error: `OwnershipUnknown(${cloudformation.incompleteBecause})` }),
    scheduleCount: total,
    producers: targets.entries.map((entry) => ({
      targetArn: entry.key,
      count: entry.count,
      uncertainty: entry.uncertainty,
      percent: percent(entry.count),
    })),
    otherTargets: targets.other,
    pairs: topOf(tally.pairs, top).entries.map((entry) => {
      const { group, target } = splitPair(entry.key);
      return {
        group,
        targetArn: target,
        count: entry.count,
        uncertainty: entry.uncertainty,
        percent: percent(entry.count),
      };
    }),
    cloudformation,
    requests: {
      ListSchedules: list.stats.requests,
      GetSchedule: get.stats.requests,
      CloudFormation: index?.requests ?? 0,
    },
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
