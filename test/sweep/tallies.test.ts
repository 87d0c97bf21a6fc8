// The sweep's tallies of finished schedules as a continuation and a checkpoint carry them: read back
// exactly, and refused, naming the field, when missing or not what a tally can be.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { SkipReason } from '../../src/schedule/decide.ts';
import { decodeCheckpoint, encodeCheckpoint, settingsFingerprint } from '../../src/sweep/checkpoint.ts';
import {
  emptyTallies,
  readTallies,
  recordTallies,
  serializeTallies,
  talliesView,
} from '../../src/sweep/ledger.ts';
import { continuationOf, type Run, startPosition } from '../../src/sweep/lifecycle.ts';
import { parseSweepEvent } from '../../src/sweep/payload.ts';

const ORDERS = 'arn:aws:lambda:us-east-1:123456789012:function:orders';
const finished = { outcome: 'finished', finishedAt: new Date(0), stuck: false } as const;
const settings = settingsFingerprint({ groups: [], graceMinutes: 60, keepDisabled: false, dryRun: true });
const run: Run = {
  runId: 'run-1',
  invocation: 1,
  startedAt: '2026-06-15T12:00:00.000Z',
  request: {},
  settings,
};

function someTallies() {
  const tallies = emptyTallies();
  const summary = { GroupName: 'orders', Target: { Arn: ORDERS } };
  recordTallies(tallies, '*', summary, {
    kind: 'wouldDelete',
    decision: finished,
    foundFinished: { stuck: false },
  });
  recordTallies(tallies, '*', summary, {
    kind: 'skipped',
    reason: SkipReason.cloudFormationOwned,
    stack: 'reminders-stack',
    foundFinished: { stuck: true },
  });
  // Left for the continuation: counted there, not here.
  recordTallies(tallies, '*', summary, { kind: 'abandoned', foundFinished: { stuck: false } });
  // Not found finished: no producer to count.
  recordTallies(tallies, '*', summary, { kind: 'pending', finishedAt: new Date(0) });
  return serializeTallies(tallies);
}

const continuationWith = (tallies: unknown) => ({
  continuation: { ...continuationOf(run, { ...startPosition(), tallies: someTallies() }), tallies },
});

describe('the tallies a continuation carries', () => {
  it('counts each finished verdict once, the owned ones per stack, and reads back exactly', () => {
    const tallies = someTallies();
    const view = talliesView(readTallies(JSON.parse(JSON.stringify(tallies)), 't'));
    expect(view.producers.finished.total).toBe(2);
    expect(view.producers.stuck.total).toBe(1);
    expect(view.cloudFormationOwned).toEqual({
      total: 1,
      stacks: [{ stack: 'reminders-stack', count: 1, uncertainty: 0 }],
      otherStacks: 0,
    });
    const event = parseSweepEvent(JSON.parse(JSON.stringify(continuationWith(tallies))));
    expect(event.kind === 'continuation' && event.continuation.tallies).toEqual(tallies);
  });

  it('survives a checkpoint round trip', () => {
    const continuation = continuationOf(run, { ...startPosition(), tallies: someTallies() });
    const body = encodeCheckpoint({ savedAt: run.startedAt, allowance: 64, settings, continuation });
    expect(decodeCheckpoint(body).continuation.tallies).toEqual(someTallies());
  });

  it.each([
    ['missing', undefined, /continuation\.tallies/],
    ['an unknown field', { ...someTallies(), extra: 1 }, /continuation\.tallies\.extra/],
    [
      'more owned than finished',
      { ...someTallies(), ownedByStack: { capacity: 25, total: 3, counters: [['reminders-stack', 3, 0]] } },
      /continuation\.tallies\.ownedByStack\.total/,
    ],
    [
      'a stack name CloudFormation cannot have',
      { ...someTallies(), ownedByStack: { capacity: 25, total: 1, counters: [['9 bad', 1, 0]] } },
      /continuation\.tallies\.ownedByStack\.counters\[0\]\[0\]/,
    ],
    [
      'a capacity other than the sweep’s (it bounds the payload)',
      { ...someTallies(), ownedByStack: { capacity: 1000, total: 1, counters: [['reminders-stack', 1, 0]] } },
      /continuation\.tallies\.ownedByStack\.capacity/,
    ],
  ])('refuses tallies %s, naming the field', (_, tallies, field) => {
    const read = () => parseSweepEvent(JSON.parse(JSON.stringify(continuationWith(tallies))));
    expect(read).toThrow(InputError);
    expect(read).toThrow(field);
  });
});

describe('SWEEP_CLOUDFORMATION_OWNED in the settings fingerprint', () => {
  it('is a setting a continuation must share; `keep` leaves earlier fingerprints as they were', () => {
    const base = { groups: [], graceMinutes: 60, keepDisabled: false, dryRun: false };
    expect(settingsFingerprint({ ...base, cloudFormationOwned: 'keep' })).toBe(settingsFingerprint(base));
    expect(settingsFingerprint({ ...base, cloudFormationOwned: 'sweep' })).not.toBe(
      settingsFingerprint(base),
    );
  });
});
