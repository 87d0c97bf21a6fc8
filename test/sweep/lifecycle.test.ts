// A sweep run's lifecycle through the real handler, the real SDK clients and the emulator: who owns a
// run when invocations' clocks differ, how a run that lost its lease ends (publishing nothing), and
// how a continuation handed on before a deploy that changed the settings is refused.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLambdaClient } from '../../src/aws/clients.ts';
import { KILLED_HOLDER_MARGIN_MS } from '../../src/aws/hand-off.ts';
import { createSweepHandler, type SweepResponse } from '../../src/handlers/sweep.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { CLOCK_SKEW_BOUND_MS, LEASE_KEY } from '../../src/state/lease.ts';
import { readSweepConfig } from '../../src/sweep/config.ts';
import { HELD_ELAPSED, useTestEmulator } from '../support/emulator.ts';
import { TOMBSTONE_TABLE, tombstoneMacKey } from '../support/tombstones.ts';
import {
  calls,
  metricValues,
  mixedPopulation,
  NAMESPACE,
  pageBudget,
  resetServices,
  SCHEDULED_EVENT,
  STATE_TABLE,
  seed,
  takeHandOffs,
} from './resume-support.ts';

const now = new Date('2025-06-15T12:00:00Z');
/** What pageBudget's context says is left of an invocation. */
const REMAINING_MS = 900_000;

const env = useTestEmulator();

beforeEach(() => resetServices(env, now));

type RunSummary = Extract<SweepResponse, { scanned: number }>;

function summaryOf(result: SweepResponse | undefined): RunSummary {
  if (!result || !('scanned' in result)) throw new Error(`expected a summary, got ${JSON.stringify(result)}`);
  return result;
}

/** A sweep handler on the state table; its clock is the emulator's unless `clock` is given. */
function handlerFor(
  options: { clock?: () => Date; settings?: Record<string, string>; dynamodb?: DynamoDBClient } = {},
) {
  const log = createMemoryLogger();
  const handler = createSweepHandler({
    scheduler: env.scheduler,
    cloudwatch: env.cloudwatch,
    dynamodb: options.dynamodb ?? env.dynamodb,
    kms: env.kms,
    lambda: createLambdaClient({ ...env.clientOptions, maxAttempts: 1 }),
    config: readSweepConfig({
      SWEEP_STATE_TABLE: STATE_TABLE,
      SWEEP_TOMBSTONE_TABLE: TOMBSTONE_TABLE,
      SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env),
      SWEEP_LIST_TPS: '1000',
      SWEEP_GET_TPS: '1000',
      SWEEP_DELETE_TPS: '1000',
      SWEEP_SAFETY_MARGIN_SECONDS: '5',
      METRICS_NAMESPACE: NAMESPACE,
      ...options.settings,
    }),
    clock: options.clock ?? (() => env.emulator.plane.now()),
    elapsed: HELD_ELAPSED,
    log,
  });
  return { handler, log };
}

/**
 * `client` with a gate before the first request `matches` picks: that request waits until `open()`
 * (`reached` resolves when it arrives). Every other request passes.
 */
function gateOn<T extends { send: (...args: never[]) => Promise<unknown> }>(
  client: T,
  matches: (input: Record<string, unknown>) => boolean,
) {
  let arrive: () => void = () => undefined;
  let release: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const opened = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  const gated = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (...args: never[]) => {
        const input = (args[0] as unknown as { input?: Record<string, unknown> }).input ?? {};
        if (!held && matches(input)) {
          held = true;
          arrive();
          await opened;
        }
        return target.send(...args);
      };
    },
  });
  return { client: gated, reached, open: () => release() };
}

/** The lease write that marks a sweep ended (src/sweep/checkpoint.ts, encodeEnded). */
function isEndMarking(input: Record<string, unknown>): boolean {
  const values = input.ExpressionAttributeValues as Record<string, { S?: string }> | undefined;
  return values?.[':checkpoint']?.S?.includes('"ended"') ?? false;
}

async function leaseItem() {
  return (await env.emulator.services.dynamodb.items(STATE_TABLE)).find((item) => item.pk?.S === LEASE_KEY);
}

describe('a live run and a run whose clock is ahead of its own (finding 5 of issue 16)', () => {
  it('keeps its lease against a run whose clock is ahead by up to the bound, at its very deadline', async () => {
    // Prepare: the holder has swept everything and is about to mark its sweep ended
    const { all, finished } = mixedPopulation(now, { default: 60 });
    seed(env, all);
    const gate = gateOn(env.dynamodb, isEndMarking);
    const holder = handlerFor({ dynamodb: gate.client });
    const running = holder.handler(SCHEDULED_EVENT, pageBudget(env));
    await gate.reached;
    const leaseBefore = await leaseItem();
    const before = ['ListSchedules', 'GetSchedule', 'DeleteSchedule'].map((op) => calls(env, op));
    const leaseUntil = Number(leaseBefore?.leaseUntil?.N);
    expect(leaseUntil - Number(leaseBefore?.acquiredAt?.N)).toBe(REMAINING_MS + KILLED_HOLDER_MARGIN_MS);

    // Act: a tick whose clock reads the holder's deadline plus the margin plus the bound, less a
    // second (a clock that stands still: the holder is at its deadline, the tick just past it)
    const skewed = handlerFor({ clock: () => new Date(leaseUntil + CLOCK_SKEW_BOUND_MS - 1_000) });
    const tick = await skewed.handler(SCHEDULED_EVENT, pageBudget(env));
    gate.open();
    const result = summaryOf(await running);

    // Assess: the tick touched nothing; the holder ended its sweep and published it once
    expect(tick).toMatchObject({ status: 'alreadyRunning', holder: leaseBefore?.runId?.S });
    expect(['ListSchedules', 'GetSchedule', 'DeleteSchedule'].map((op) => calls(env, op))).toEqual(before);
    expect(result).toMatchObject({ status: 'finished', complete: true, deleted: finished.length });
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([finished.length]);
    expect(await leaseItem()).toBeUndefined();
  });

  it('when a run ahead by more than the bound took its lease over, its refused end marking makes it publish nothing, log an error and report superseded', async () => {
    // Prepare: the holder has swept everything and is about to mark its sweep ended
    const { all } = mixedPopulation(now, { default: 60 });
    seed(env, all);
    const gate = gateOn(env.dynamodb, isEndMarking);
    const holder = handlerFor({ dynamodb: gate.client });
    const running = holder.handler(SCHEDULED_EVENT, pageBudget(env));
    await gate.reached;
    const held = await leaseItem();
    const runId = held?.runId?.S;
    const leaseUntil = Number(held?.leaseUntil?.N);

    // Act: a run whose clock is further ahead finds the lease expired and resumes the run to its end
    const skewed = handlerFor({ clock: () => new Date(leaseUntil + CLOCK_SKEW_BOUND_MS + 1_000) });
    const takeover = summaryOf(await skewed.handler(SCHEDULED_EVENT, pageBudget(env)));
    gate.open();
    const result = await running;

    // Assess: the sweep is published once, by the run that ended it on the lease
    expect(takeover).toMatchObject({ status: 'finished', runId });
    expect(result).toEqual({ status: 'superseded', runId, invocation: 1 });
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([takeover.deleted]);
    expect(metricValues(env, 'SweepsCompleted')).toHaveLength(1);
    expect(holder.log.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: expect.stringMatching(/end.*refused/) }),
    );
  });
});

describe('a continuation handed on before a deploy that changed the settings (finding 6 of issue 16)', () => {
  it.each([
    // a: 80 schedules (one page), so one page per invocation hands on at b's first page
    ['at a group boundary, to a new group', 80, 1, 'c', { groupIndex: 1 }],
    ['at a group boundary, to the groups reordered', 80, 1, 'b,a', { groupIndex: 1 }],
    [
      'mid-group, to the groups reordered',
      250,
      1,
      'b,a',
      expect.objectContaining({ groupIndex: 0, nextToken: expect.any(String) }),
    ],
  ])(
    'is refused %s: the old run ends incomplete, published once, lease freed; the next tick sweeps afresh',
    async (_label, sizeOfA, pages, newGroups, cursor) => {
      // Prepare: a run over SWEEP_GROUPS=a,b hands on; a deploy changes SWEEP_GROUPS
      const { all } = mixedPopulation(now, { a: sizeOfA, b: 150, c: 60 });
      seed(env, all);
      const before = handlerFor({ settings: { SWEEP_GROUPS: 'a,b' } });
      const first = summaryOf(await before.handler(SCHEDULED_EVENT, pageBudget(env, pages)));
      const [continuation] = takeHandOffs(env) as { continuation: { cursor: unknown } }[];
      expect(first.status).toBe('continuing');
      expect(continuation?.continuation.cursor).toEqual(cursor);
      const listedBefore = calls(env, 'ListSchedules');
      const after = handlerFor({ settings: { SWEEP_GROUPS: newGroups } });

      // Act
      const refused = summaryOf(await after.handler(continuation, pageBudget(env)));
      const listedByRefused = calls(env, 'ListSchedules') - listedBefore;
      const fresh = summaryOf(await after.handler(SCHEDULED_EVENT, pageBudget(env)));

      // Assess: the old run ended where it stood, listing nothing more
      expect(refused).toMatchObject({
        status: 'finished',
        runId: first.runId,
        invocation: 2,
        complete: false,
        stoppedBy: 'settingsChanged',
        scanned: first.scanned,
        deleted: first.deleted,
      });
      expect(listedByRefused).toBe(0);
      expect(takeHandOffs(env)).toEqual([]);
      expect(after.log.lines).toContainEqual(
        expect.objectContaining({ message: expect.stringMatching(/settings changed/) }),
      );
      // The next tick is a new run over the new groups, each listed once, to the end
      const groups = newGroups.split(',');
      expect(fresh).toMatchObject({ status: 'finished', complete: true });
      expect(fresh.runId).not.toBe(first.runId);
      expect(Object.keys(fresh.scheduleCounts.byGroup).sort()).toEqual([...groups].sort());
      const inNewGroups = all.filter((definition) => groups.includes(definition.GroupName ?? ''));
      expect(fresh.scanned).toBe(
        inNewGroups.filter((definition) =>
          env.emulator.services.scheduler.has(definition.GroupName ?? '', definition.Name ?? ''),
        ).length + fresh.deleted,
      );
      // Published once each: the old run incomplete, the new one complete
      expect(metricValues(env, 'SweepsCompleted')).toEqual([0, 1]);
      expect(metricValues(env, 'SchedulesDeleted')).toEqual([first.deleted, fresh.deleted]);
      expect(await leaseItem()).toBeUndefined();
    },
  );
});
