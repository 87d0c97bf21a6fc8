// Incremental sweeps: what each GetSchedule taught is remembered (src/state/memory.ts), so the next
// sweep of a mostly unchanged account looks up only new, changed or now-due schedules. Memory answers
// only "not due yet" (pending, recurring, skipped); anything that might be finished is looked up.
import type { ScheduleSummary } from '@aws-sdk/client-scheduler';
import type { Logger } from '../log.ts';
import { safeError, scheduleRef } from '../redact.ts';
import { SkipReason } from '../schedule/decide.ts';
import type { Remembered, ScheduleMemory } from '../state/memory.ts';
import type { ItemOutcome, RecalledOutcome, SkipReasonName, SweepKnowledge } from './model.ts';

export interface IncrementalSettings {
  clock: () => Date;
  log: Logger;
  /** The run's grace: remembered due times exclude it, so a run with another grace still judges right. */
  graceMs: number;
  keepDisabled: boolean;
  /** False for a full-lookup run: nothing is recalled, everything looked up and remembered afresh. */
  recall: boolean;
}

const skipReasons = new Set<string>(Object.values(SkipReason));
/** Skips that stay true while the definition is unchanged. */
const REMEMBERED_SKIPS = new Set<string>([
  SkipReason.unknownTimezone,
  SkipReason.unparseableExpression,
  SkipReason.missingFields,
  SkipReason.invalidFields,
  SkipReason.kmsAccessDenied,
]);
// A reason stored by another version of the sweeper that this one does not know is not trusted.
const isSkipReason = (reason: string): reason is SkipReasonName => skipReasons.has(reason);

/** The memory layer the sweep calls around inspect(); see SweepKnowledge. */
export function createIncrementalKnowledge(
  memory: ScheduleMemory,
  settings: IncrementalSettings,
): SweepKnowledge {
  return {
    async recall(page) {
      const answers = new Map<string, RecalledOutcome>();
      if (!settings.recall) return answers;
      const keys = page.flatMap((summary) => {
        const key = keyOf(summary);
        return key ? [key] : [];
      });
      const remembered = await memory.recall(keys);
      const now = settings.clock().getTime();
      for (const [arn, knowledge] of remembered) {
        const answer = answerFor(knowledge, now, settings);
        if (answer) answers.set(arn, answer);
      }
      return answers;
    },

    async learn(summary, outcome) {
      const key = keyOf(summary);
      if (!key) return;
      try {
        const knowledge = lessonOf(outcome, key.lastModified, summary, settings);
        if (knowledge) await memory.remember(key.arn, knowledge);
        else if (outcome.kind === 'deleted' || outcome.kind === 'alreadyGone') await memory.forget(key.arn);
      } catch (error) {
        settings.log.warn('remembering a lookup failed', {
          ...scheduleRef(summary),
          error: safeError(error),
        });
      }
    },
  };
}

function keyOf(summary: ScheduleSummary): { arn: string; lastModified: number } | undefined {
  const lastModified = summary.LastModificationDate?.getTime();
  // Without both there is nothing to key on safely: the schedule is simply looked up every time.
  if (!summary.Arn || lastModified === undefined || !Number.isFinite(lastModified)) return undefined;
  return { arn: summary.Arn, lastModified };
}

/** What memory may say about a schedule now, or undefined when it must be looked up. */
function answerFor(
  knowledge: Remembered,
  now: number,
  settings: Pick<IncrementalSettings, 'graceMs' | 'keepDisabled'>,
): RecalledOutcome | undefined {
  switch (knowledge.kind) {
    case 'recurring':
      return { kind: 'recurring' };
    case 'skipped':
      return isSkipReason(knowledge.reason) ? { kind: 'skipped', reason: knowledge.reason } : undefined;
    case 'oneTime': {
      if (knowledge.disabled && settings.keepDisabled) return undefined;
      const finishedAt = knowledge.dueAt + settings.graceMs;
      // Due now or soon: a lookup decides, never memory.
      return now < finishedAt ? { kind: 'pending', finishedAt: new Date(finishedAt) } : undefined;
    }
  }
}

/** What an inspection teaches that stays true while LastModificationDate is unchanged. */
function lessonOf(
  outcome: ItemOutcome,
  lastModified: number,
  summary: ScheduleSummary,
  settings: Pick<IncrementalSettings, 'graceMs'>,
): Remembered | undefined {
  switch (outcome.kind) {
    case 'pending':
      return {
        kind: 'oneTime',
        lastModified,
        dueAt: outcome.finishedAt.getTime() - settings.graceMs,
        disabled: summary.State === 'DISABLED',
      };
    case 'recurring':
      return { kind: 'recurring', lastModified };
    case 'skipped':
      // Only what the definition itself says: a protection unread, a delete that could not leave, a
      // change mid-sweep or this run's keepDisabled setting may be otherwise next time.
      return REMEMBERED_SKIPS.has(outcome.reason)
        ? { kind: 'skipped', lastModified, reason: outcome.reason }
        : undefined;
    default:
      return undefined;
  }
}
