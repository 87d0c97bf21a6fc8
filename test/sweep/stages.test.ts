// The judge and the resume point alone (no emulator): a verdict from protection, memory and the
// decision; a cursor from the settled pages.
import type { GetScheduleCommandOutput, SchedulerClient } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { RequestBudget } from '../../src/aws/budget.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { changedSince, type JudgeContext, judge, listedAsAsked } from '../../src/sweep/judge.ts';
import { dropSettledPages, type PageRecord, resumeCursor, settledCursor } from '../../src/sweep/pages.ts';

const NOW = new Date('2025-06-15T12:00:00Z');
const summary = {
  Name: 's1',
  GroupName: 'default',
  Arn: 'arn:aws:scheduler:us-east-1:123456789012:schedule/default/s1',
};
const oneTime = (at: string): GetScheduleCommandOutput => ({
  $metadata: {},
  Name: 's1',
  GroupName: 'default',
  Arn: summary.Arn,
  ScheduleExpression: `at(${at})`,
  State: 'ENABLED',
  ActionAfterCompletion: 'NONE',
  FlexibleTimeWindow: { Mode: 'OFF' },
  CreationDate: new Date('2025-05-01T00:00:00Z'),
  LastModificationDate: new Date('2025-05-01T00:00:00Z'),
  Target: { Arn: 'arn:aws:sqs:us-east-1:123456789012:q', RoleArn: 'arn:aws:iam::123456789012:role/r' },
});

function context(answer: () => Promise<GetScheduleCommandOutput>, overrides: Partial<JudgeContext> = {}) {
  let lookups = 0;
  const scheduler = {
    send: async () => {
      lookups += 1;
      return answer();
    },
  } as unknown as SchedulerClient;
  const value: JudgeContext = {
    scheduler,
    clock: () => NOW,
    log: createMemoryLogger(),
    getBudget: new RequestBudget('GetSchedule', { ratePerSecond: 1e6, sleep: async () => {} }),
    graceMs: 0,
    keepDisabled: false,
    now: () => 42,
    ...overrides,
  };
  return { value, lookups: () => lookups };
}

describe('judge', () => {
  it('keeps a schedule whose lookup answered another schedule, or no name, as answerMismatch', async () => {
    const finishedAnswer = oneTime('2025-06-01T00:00:00');
    for (const answer of [
      { ...finishedAnswer, Arn: finishedAnswer.Arn?.replace('123456789012', '222222222222') },
      { ...finishedAnswer, Arn: undefined },
      { ...finishedAnswer, Name: 's2' },
      { ...finishedAnswer, GroupName: 'orders' },
      { ...finishedAnswer, Name: undefined },
      { ...finishedAnswer, GroupName: undefined },
    ]) {
      const log = createMemoryLogger();
      const { value } = context(async () => answer, { log });
      expect(await judge(summary, undefined, value)).toEqual({ kind: 'skipped', reason: 'answerMismatch' });
      expect(log.lines).toEqual([
        expect.objectContaining({ message: 'schedule skipped', name: 's1', group: 'default' }),
      ]);
    }
    // A listed schedule without GroupName is in default, as its lookup asks; one without an ARN
    // (ListSchedules lists one) is not judged: there is nothing to hold the answer to.
    const { value } = context(async () => finishedAnswer);
    expect(await judge({ Name: 's1', Arn: summary.Arn }, undefined, value)).toMatchObject({
      kind: 'candidate',
    });
    expect(await judge({ Name: 's1' }, undefined, value)).toEqual({
      kind: 'skipped',
      reason: 'answerMismatch',
    });
  });

  it("never looks up a listed schedule outside its listing's group and name prefix", async () => {
    const { value, lookups } = context(async () => oneTime('2025-06-01T00:00:00'));
    const inside = { group: 'orders', namePrefix: 'reminder-' };
    const listed = (GroupName: string | undefined, Name: string) => ({ ...summary, GroupName, Name });
    for (const outside of [
      listed('payments', 'reminder-1'),
      listed(undefined, 'reminder-1'),
      listed('orders', 'x'),
    ])
      expect(await judge(outside, undefined, value, inside)).toEqual({
        kind: 'skipped',
        reason: 'answerMismatch',
      });
    expect(lookups()).toBe(0);
    // Inside its listing, the same schedule is looked up and judged.
    expect(await judge(summary, undefined, value, { group: 'default', namePrefix: 's' })).toMatchObject({
      kind: 'candidate',
    });
    expect(listedAsAsked(listed('orders', 'reminder-1'), inside)).toBe(true);
    expect(listedAsAsked(listed('orders', 'reminder-'), inside)).toBe(true);
    expect(listedAsAsked(listed(undefined, 'x'), {})).toBe(true);
    expect(listedAsAsked(listed(undefined, 'x'), { group: 'default' })).toBe(true);
    // A listing of one configured group answering another configured group's schedule is outside it.
    expect(listedAsAsked(listed('payments', 'x'), { group: 'orders' })).toBe(false);
    // A summary without a name of the API's form is never judged.
    expect(listedAsAsked({ GroupName: 'default' }, {})).toBe(false);
    expect(listedAsAsked(listed('default', ''), {})).toBe(false);
  });

  it('counts a re-read that answers another schedule as a change, so the delete never leaves', () => {
    const judged = oneTime('2025-06-01T00:00:00');
    const settings = { clock: () => NOW, graceMs: 0, keepDisabled: false };
    expect(changedSince(judged, { ...judged }, settings)).toBe(false);
    expect(changedSince(judged, { ...judged, Name: 's2' }, settings)).toBe(true);
    expect(changedSince(judged, { ...judged, GroupName: 'orders' }, settings)).toBe(true);
    // The same group and name in another account (a cache shared across accounts): another schedule.
    const elsewhere = judged.Arn?.replace('123456789012', '222222222222');
    expect(changedSince(judged, { ...judged, Arn: elsewhere }, settings)).toBe(true);
  });

  it('makes a finished schedule a candidate for the gate, with when its answer arrived', async () => {
    const { value } = context(async () => oneTime('2025-06-01T00:00:00'));
    const verdict = await judge(summary, undefined, value);
    expect(verdict).toMatchObject({ kind: 'candidate', answeredAt: 42, decision: { outcome: 'finished' } });
  });

  it('never looks up a protected schedule, and keeps one whose protection cannot be read', async () => {
    const protectedBy = context(async () => oneTime('2025-06-01T00:00:00'), {
      protection: {
        check: async () => ({ kind: 'protected', by: 'groupTag' }),
        confirm: async () => ({ verdict: undefined, readAt: 0, nameAnsweredAt: 0 }),
      },
    });
    const unknown = context(async () => oneTime('2025-06-01T00:00:00'), {
      protection: {
        check: async () => ({ kind: 'unknown' }),
        confirm: async () => ({ verdict: undefined, readAt: 0, nameAnsweredAt: 0 }),
      },
    });
    expect(await judge(summary, undefined, protectedBy.value)).toEqual({ kind: 'protected', by: 'groupTag' });
    expect(await judge(summary, undefined, unknown.value)).toEqual({
      kind: 'skipped',
      reason: 'protectionUnknown',
    });
    expect(protectedBy.lookups() + unknown.lookups()).toBe(0);
  });

  it('takes what memory recalls without a lookup, and counts a failed lookup as failed, never finished', async () => {
    const recalled = context(async () => oneTime('2025-06-01T00:00:00'));
    const failing = context(async () => {
      throw Object.assign(new Error('boom'), {
        name: 'ValidationException',
        $metadata: { httpStatusCode: 400 },
      });
    });
    expect(await judge(summary, { kind: 'recurring' }, recalled.value)).toEqual({ kind: 'recurring' });
    expect(recalled.lookups()).toBe(0);
    expect(await judge(summary, undefined, failing.value)).toEqual({
      kind: 'failed',
      operation: 'GetSchedule',
    });
  });

  it("keeps '.' and '..' answered 404 as unaddressableName: a path without its dot segment is no proof of absence", async () => {
    const notFound = () =>
      context(async () => {
        throw Object.assign(new Error('Schedule not found'), {
          name: 'ResourceNotFoundException',
          $metadata: { httpStatusCode: 404 },
        });
      });
    const named = (Name: string) => ({ ...summary, Name });
    for (const name of ['.', '..']) {
      const log = createMemoryLogger();
      expect(await judge(named(name), undefined, { ...notFound().value, log })).toEqual({
        kind: 'skipped',
        reason: 'unaddressableName',
      });
      expect(log.lines.map((line) => line.message)).toEqual(['schedule skipped']);
    }
    for (const name of ['...', '.a', 'a.', 's1']) {
      expect(await judge(named(name), undefined, notFound().value)).toEqual({
        kind: 'alreadyGone',
        finished: false,
      });
    }
  });
});

const page = (over: Partial<PageRecord>): PageRecord => ({
  cursor: { groupIndex: 0 },
  remaining: 0,
  unprocessed: 0,
  done: [],
  passed: [],
  next: { groupIndex: 0, nextToken: 'next' },
  ...over,
});

describe('resume point', () => {
  it('resumes a checkpoint at the first page with an item not settled, skipping what was counted from there on', () => {
    const pages = [
      page({ cursor: { groupIndex: 0 }, done: ['a1'] }),
      page({ cursor: { groupIndex: 0, nextToken: 't2' }, remaining: 1, done: ['b1'] }),
      page({ cursor: { groupIndex: 0, nextToken: 't3' }, done: ['c1'], passed: ['c0'] }),
    ];
    dropSettledPages(pages);
    expect(pages).toHaveLength(2);
    expect(settledCursor(pages, { groupIndex: 0, nextToken: 't4' }, new Set(['z9']))).toEqual({
      groupIndex: 0,
      nextToken: 't2',
      skip: ['b1', 'c1', 'c0', 'z9'],
    });
  });

  it('resumes after the last page when all settled, and at the first unprocessed page once drained', () => {
    const settled = [page({ next: { groupIndex: 1 } })];
    expect(settledCursor(settled, { groupIndex: 0 }, new Set())).toEqual({ groupIndex: 1 });
    const leftOver = [
      page({ done: ['a'] }),
      page({ cursor: { groupIndex: 0, nextToken: 't2' }, unprocessed: 2, done: ['b'] }),
    ];
    expect(resumeCursor(leftOver, { groupIndex: 1 }, new Set())).toEqual({
      groupIndex: 0,
      nextToken: 't2',
      skip: ['b'],
    });
    expect(resumeCursor([page({ done: ['a'] })], { groupIndex: 1 }, new Set())).toEqual({ groupIndex: 1 });
  });
});
