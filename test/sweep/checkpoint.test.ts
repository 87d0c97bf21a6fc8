// Checkpoints through the real handler, the real SDK clients and the emulator, with the default
// settings (budgets, concurrency, safety margin, checkpoint allowance and cadence): an invocation
// killed mid-sweep (no code of ours runs after it) loses at most the checkpoint's deletion allowance
// from its totals, its lease is free to others a minute and the clock skew bound after its deadline, and the next scheduled run resumes
// the same sweep from its last checkpoint instead of starting over; metrics are published once.
import { type AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { createLambdaClient } from '../../src/aws/clients.ts';
import { KILLED_HOLDER_MARGIN_MS } from '../../src/aws/hand-off.ts';
import { createSweepHandler, type SweepResponse } from '../../src/handlers/sweep.ts';
import { createMemoryLogger } from '../../src/log.ts';
import { CLOCK_SKEW_BOUND_MS, LEASE_KEY } from '../../src/state/lease.ts';
import {
  CHECKPOINT_DELETE_ALLOWANCE,
  decodeCheckpoint,
  MAX_CHECKPOINT_AGE_MS,
  type SweepCheckpoint,
} from '../../src/sweep/checkpoint.ts';
import { readSweepConfig } from '../../src/sweep/config.ts';
import { HELD_ELAPSED, useTestEmulator } from '../support/emulator.ts';
import { behindKillSwitch, type KillSwitch } from '../support/kill-switch.ts';
import { TOMBSTONE_TABLE, tombstoneMacKey } from '../support/tombstones.ts';
import { key } from './fixtures.ts';
import {
  FUNCTION_NAME,
  metricValues,
  mixedPopulation,
  NAMESPACE,
  resetServices,
  SCHEDULED_EVENT,
  STATE_TABLE,
  seed,
  takeHandOffs,
} from './resume-support.ts';

const now = new Date('2025-06-15T12:00:00Z');
const MINUTE = 60_000;
/**
 * When a killed holder's lease is free to the next run, after its deadline: the margin it holds it
 * for, and the clock skew bound the next run allows it.
 */
const LEASE_FREE_AFTER_MS = KILLED_HOLDER_MARGIN_MS + CLOCK_SKEW_BOUND_MS;
/** What the Lambda context says is left: a 15-minute function, just started. */
const REMAINING_MS = 15 * MINUTE;

const env = useTestEmulator();

beforeEach(() => resetServices(env, now));

type RunSummary = Extract<SweepResponse, { scanned: number }>;

function summaryOf(result: SweepResponse | undefined): RunSummary {
  if (!result || !('scanned' in result)) throw new Error(`expected a summary, got ${JSON.stringify(result)}`);
  return result;
}

/** A sweep handler with the default settings but for its tables and namespace, its clients behind `kill`. */
function handlerFor(kill: KillSwitch = { killed: false }, environment: Record<string, string> = {}) {
  const log = createMemoryLogger();
  const handler = createSweepHandler({
    scheduler: behindKillSwitch(env.scheduler, kill),
    cloudwatch: behindKillSwitch(env.cloudwatch, kill),
    dynamodb: behindKillSwitch(env.dynamodb, kill),
    kms: behindKillSwitch(env.kms, kill),
    lambda: behindKillSwitch(createLambdaClient({ ...env.clientOptions, maxAttempts: 1 }), kill),
    config: readSweepConfig({
      SWEEP_STATE_TABLE: STATE_TABLE,
      SWEEP_TOMBSTONE_TABLE: TOMBSTONE_TABLE,
      SWEEP_TOMBSTONE_MAC_KEY: tombstoneMacKey(env),
      METRICS_NAMESPACE: NAMESPACE,
      ...environment,
    }),
    clock: () => env.emulator.plane.now(),
    elapsed: HELD_ELAPSED,
    log,
  });
  return { handler, log };
}

const context = () => ({ functionName: FUNCTION_NAME, getRemainingTimeInMillis: () => REMAINING_MS });

/** Runs an invocation until it has sent `deletes` DeleteSchedule requests, then kills it. */
async function killedAfterDeletes(deletes: number, event: unknown = SCHEDULED_EVENT) {
  let sent = 0;
  await killedWhen(event, (operation) => {
    if (operation === 'DeleteSchedule') sent += 1;
    return sent > deletes ? 'before' : undefined;
  });
}

/**
 * Runs an invocation until `when` answers for a request: killed before it is sent, or just after
 * (the request reaches the emulator; its answer never reaches the invocation).
 */
async function killedWhen(event: unknown, when: (operation: string) => 'before' | 'after' | undefined) {
  const kill: KillSwitch = {
    killed: false,
    onSend: (operation) => {
      const moment = when(operation);
      if (moment === 'before') kill.killed = true;
      if (moment === 'after') kill.tripAfterSend = true;
    },
  };
  const { handler } = handlerFor(kill);
  const finished = handler(event, context()).then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  // Until it is killed, or (a failure of this test) it ends by itself.
  for (let waited = 0; !kill.killed && waited < 120_000; waited += 10) {
    const ended = await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 10))]);
    if (ended) throw new Error(`the invocation ended before it was killed: ${JSON.stringify(ended)}`);
  }
  // What it had sent reaches the emulator before the clock moves on.
  while (env.emulator.plane.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function leaseItem() {
  return (await env.emulator.services.dynamodb.items(STATE_TABLE)).find((item) => item.pk?.S === LEASE_KEY);
}

async function storedCheckpoint(): Promise<SweepCheckpoint> {
  const body = (await leaseItem())?.checkpoint?.S;
  if (body === undefined) throw new Error('no checkpoint on the lease');
  return decodeCheckpoint(body);
}

function present(definitions: SeedDefinition[]): string[] {
  return definitions
    .filter((definition) =>
      env.emulator.services.scheduler.has(definition.GroupName ?? 'default', definition.Name!),
    )
    .map(key);
}

/** Schedules (group/name) whose delete the emulator applied, in order. */
function appliedDeletes(): string[] {
  return env.emulator.plane.faults
    .applied()
    .filter((entry) => entry.operation === 'DeleteSchedule' && entry.applied && entry.actor === 'client')
    .map((entry) => `${String(entry.detail?.group)}/${String(entry.detail?.name)}`);
}

/** Schedules the emulator answered a GetSchedule for, from record position `from` on (each once). */
function lookedUpSince(from: number): number {
  const keys = env.emulator.plane.faults
    .applied()
    .filter((entry) => entry.seq > from && entry.operation === 'GetSchedule' && entry.status === 200)
    .map((entry) => `${String(entry.detail?.group)}/${String(entry.detail?.name)}`);
  return new Set(keys).size;
}

describe('a sweep invocation killed mid-sweep', () => {
  beforeEach(() => {
    env.emulator.plane.faults.reset();
    env.emulator.plane.faults.configure({ record: true });
  });

  it('is resumed by the next scheduled run from its last checkpoint: same sweep, totals within the allowance, metrics once, lease freed', async () => {
    // Prepare: 900 schedules over two groups (300 finished); the first invocation is killed after
    // sending 150 deletes
    const { all, finished, kept } = mixedPopulation(now, { default: 500, orders: 400 });
    seed(env, all);
    await killedAfterDeletes(150);
    const held = await leaseItem();
    const checkpoint = await storedCheckpoint();
    const killedDeletes = appliedDeletes().length;

    // Act: the lease expires a minute after the killed invocation's deadline; the next tick comes
    env.emulator.plane.setNow(new Date(now.getTime() + REMAINING_MS + LEASE_FREE_AFTER_MS + 1_000));
    const resumedFrom = env.emulator.plane.faults.tick();
    const listed: Record<string, unknown>[] = [];
    const { handler, log } = handlerFor({
      killed: false,
      onSend: (operation, input) => {
        if (operation === 'ListSchedules') listed.push(input);
      },
    });
    const result = summaryOf(await handler(SCHEDULED_EVENT, context()));

    // Assess: the killed invocation held the lease until a minute after its deadline
    expect(Number(held?.leaseUntil?.N) - Number(held?.acquiredAt?.N)).toBe(
      REMAINING_MS + KILLED_HOLDER_MARGIN_MS,
    );
    // Sent 150, each applied (the gate's clock is held here, so no departure is refused).
    expect(killedDeletes).toBe(150);
    expect(checkpoint.continuation.counts.deleted).toBeGreaterThan(0);
    // The same sweep, carried on from the checkpoint's page, not from the first one
    expect(result).toMatchObject({ status: 'finished', complete: true, runId: held?.runId?.S });
    expect(listed[0]?.NextToken ?? null).toBe(checkpoint.continuation.cursor.nextToken ?? null);
    expect(checkpoint.continuation.cursor.nextToken).toBeDefined();
    // Nothing the checkpoint counted is looked up again
    expect(lookedUpSince(resumedFrom)).toBeLessThanOrEqual(
      all.length - checkpoint.continuation.counts.scanned,
    );
    // Every finished schedule deleted once, none kept
    expect(appliedDeletes().sort()).toEqual(finished.map(key).sort());
    expect(present(all).sort()).toEqual(kept.map(key).sort());
    // Totals: what it kept exactly (no double count); deleted short by at most the allowance, and said so
    expect(result.pending + result.recurring + result.skippedTotal).toBe(kept.length);
    expect(result.uncertain.deleted).toBe(CHECKPOINT_DELETE_ALLOWANCE);
    expect(result.deletesUncounted).toBe(CHECKPOINT_DELETE_ALLOWANCE);
    expect(result.deleted).toBeLessThanOrEqual(finished.length);
    expect(result.deleted).toBeGreaterThanOrEqual(finished.length - CHECKPOINT_DELETE_ALLOWANCE);
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([result.deleted]);
    expect(await leaseItem()).toBeUndefined();
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/^resuming a sweep/) }),
    );
  });

  it('is abandoned by a run with a different request (a dry run after a real one), which starts over and says so', async () => {
    // Prepare
    const { all, finished } = mixedPopulation(now, { default: 300 });
    seed(env, all);
    await killedAfterDeletes(20);
    const killedRun = (await leaseItem())?.runId?.S;
    env.emulator.plane.setNow(new Date(now.getTime() + REMAINING_MS + LEASE_FREE_AFTER_MS + 1_000));

    // Act
    const { handler, log } = handlerFor();
    const result = summaryOf(await handler({ dryRun: true }, context()));

    // Assess: a fresh sweep of everything still there
    expect(result).toMatchObject({
      status: 'finished',
      complete: true,
      dryRun: true,
      scanned: present(all).length,
    });
    expect(result.runId).not.toBe(killedRun);
    expect(result.wouldDelete).toBe(finished.length - appliedDeletes().length);
    expect(result.uncertain.deleted).toBe(0);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: expect.stringMatching(/checkpoint; it is abandoned/),
        reason: 'it was taken for a different request',
      }),
    );
  });

  it(`is abandoned when its checkpoint is older than ${MAX_CHECKPOINT_AGE_MS / 3_600_000} hours`, async () => {
    // Prepare
    const { all } = mixedPopulation(now, { default: 300 });
    seed(env, all);
    await killedAfterDeletes(20);
    const killedRun = (await leaseItem())?.runId?.S;
    env.emulator.plane.setNow(new Date(now.getTime() + MAX_CHECKPOINT_AGE_MS + MINUTE));

    const remaining = present(all).length;

    // Act
    const { handler, log } = handlerFor();
    const result = summaryOf(await handler(SCHEDULED_EVENT, context()));

    // Assess: a fresh sweep of everything still there
    expect(result).toMatchObject({ status: 'finished', complete: true, scanned: remaining });
    expect(result.runId).not.toBe(killedRun);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/abandoned/), reason: 'older than 6 hours' }),
    );
  });

  it('is abandoned, never resumed in part, when its checkpoint does not read exactly', async () => {
    // Prepare: the stored checkpoint gains a field it never has
    const { all } = mixedPopulation(now, { default: 300 });
    seed(env, all);
    await killedAfterDeletes(20);
    const item = await leaseItem();
    const body = JSON.parse(item?.checkpoint?.S ?? '{}');
    body.continuation.counts.extra = 1;
    await env.dynamodb.send(
      new PutItemCommand({
        TableName: STATE_TABLE,
        Item: { ...item, checkpoint: { S: JSON.stringify(body) } } as Record<string, AttributeValue>,
      }),
    );
    env.emulator.plane.setNow(new Date(now.getTime() + REMAINING_MS + LEASE_FREE_AFTER_MS + 1_000));

    const remaining = present(all).length;

    // Act
    const { handler, log } = handlerFor();
    const result = summaryOf(await handler(SCHEDULED_EVENT, context()));

    // Assess: a fresh sweep of everything still there
    expect(result).toMatchObject({ status: 'finished', complete: true, scanned: remaining });
    expect(result.runId).not.toBe(item?.runId?.S);
    const abandoned = log.lines.find((line) => /abandoned/.test(String(line.message)));
    expect(abandoned?.reason).toMatch(/^unreadable: checkpoint\.continuation\.counts/);
  });

  it('regression: killed once it sent the sweep metrics, it is not resumed (its sweep had ended), and they are not published twice', async () => {
    // Prepare: found by the randomized fault test (seed 175), made deterministic here
    const { all, finished } = mixedPopulation(now, { default: 60 });
    seed(env, all);
    await killedWhen(SCHEDULED_EVENT, (operation) => (operation === 'PutMetricData' ? 'after' : undefined));
    const killedRun = (await leaseItem())?.runId?.S;
    env.emulator.plane.setNow(new Date(now.getTime() + REMAINING_MS + LEASE_FREE_AFTER_MS + 1_000));

    // Act
    const { handler, log } = handlerFor();
    const result = summaryOf(await handler(SCHEDULED_EVENT, context()));

    // Assess: the killed run published once; the next tick is a new sweep, with its own publication
    expect(killedRun).toBeDefined();
    expect(result.runId).not.toBe(killedRun);
    expect(result).toMatchObject({ status: 'finished', complete: true, deleted: 0 });
    expect(metricValues(env, 'SchedulesDeleted')).toEqual([finished.length, 0]);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        message: expect.stringMatching(/abandoned/),
        reason: expect.stringMatching(/had ended/),
      }),
    );
  });

  it('regression: a resumed sweep keeps maxDeletes over the deletes it may not count (sent after the checkpoint)', async () => {
    // Prepare: 300 finished schedules; a manual sweep capped at 200 deletes is killed after 150
    const { all } = mixedPopulation(now, { default: 500, orders: 400 });
    seed(env, all);
    const event = { maxDeletes: 200 };
    await killedAfterDeletes(150, event);

    // Act: the same request after the lease expired resumes the sweep
    env.emulator.plane.setNow(new Date(now.getTime() + REMAINING_MS + LEASE_FREE_AFTER_MS + 1_000));
    const result = summaryOf(await handlerFor().handler(event, context()));

    // Assess: never more deletes applied than the cap, whatever the checkpoint could count
    expect(result.runId).toBeDefined();
    expect(appliedDeletes().length).toBeLessThanOrEqual(200);
    expect(result.deleted).toBeLessThanOrEqual(200);
  });

  it('finding 7 (issue 16): a resumed sweep whose uncounted allowance uses up maxDeletes ends incomplete, stopped by maxDeletes', async () => {
    // Prepare: 300 finished schedules; a sweep capped at the checkpoint allowance is killed after
    // 10 deletes, so what its checkpoint may not count uses up the whole cap
    const { all, finished } = mixedPopulation(now, { default: 500, orders: 400 });
    seed(env, all);
    const event = { maxDeletes: CHECKPOINT_DELETE_ALLOWANCE };
    await killedAfterDeletes(10, event);
    const killedRun = (await leaseItem())?.runId?.S;

    // Act: the same request after the lease expired resumes the sweep
    env.emulator.plane.setNow(new Date(now.getTime() + REMAINING_MS + LEASE_FREE_AFTER_MS + 1_000));
    const { handler, log } = handlerFor();
    const result = summaryOf(await handler(event, context()));

    // Assess: the same run, resumed; with no deletion left to make it cannot claim to have covered
    // the finished schedules it never looked at
    expect(result.runId).toBe(killedRun);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/^resuming a sweep/) }),
    );
    expect(result).toMatchObject({ status: 'finished', complete: false, stoppedBy: 'maxDeletes' });
    expect(result.deletesUncounted).toBe(CHECKPOINT_DELETE_ALLOWANCE);
    expect(appliedDeletes().length).toBeLessThan(finished.length);
    expect(present(finished).length).toBeGreaterThan(0);
    expect(metricValues(env, 'SweepsCompleted')).toEqual([0]);
    expect(await leaseItem()).toBeUndefined();
  });

  it('regression: is abandoned when the function now sweeps other groups (SWEEP_GROUPS changed), and the run starts over', async () => {
    // Prepare: killed while sweeping every group
    const { all } = mixedPopulation(now, { default: 500, orders: 400 });
    seed(env, all);
    await killedAfterDeletes(150);
    const killed = (await leaseItem())?.runId?.S;

    // Act: after a deploy that narrowed the groups, the next tick finds the expired lease
    env.emulator.plane.setNow(new Date(now.getTime() + REMAINING_MS + LEASE_FREE_AFTER_MS + 1_000));
    const { handler, log } = handlerFor({ killed: false }, { SWEEP_GROUPS: 'orders' });
    const result = summaryOf(await handler(SCHEDULED_EVENT, context()));

    // Assess: a new sweep of the orders group only, from its first page
    expect(result.runId).not.toBe(killed);
    expect(result.failed).toBe(0);
    expect(
      log.lines.some(
        (line) =>
          String(line.message).includes('it is abandoned') &&
          String(line.reason).includes('different settings'),
      ),
    ).toBe(true);
    // Every schedule of orders scanned once (its deleted ones are gone), none of default.
    const ordersLeft = all.filter((definition) => definition.GroupName === 'orders');
    expect(result.scanned).toBeLessThanOrEqual(ordersLeft.length);
    expect(result.scanned).toBeGreaterThan(0);
    expect(result.scheduleCounts).not.toHaveProperty('default');
  });

  it('keeps others out until its margin and the clock skew bound after its deadline: a tick before then touches nothing', async () => {
    // Prepare
    const { all } = mixedPopulation(now, { default: 300 });
    seed(env, all);
    await killedAfterDeletes(20);
    env.emulator.plane.setNow(new Date(now.getTime() + REMAINING_MS + LEASE_FREE_AFTER_MS - 1_000));
    const leaseBefore = await leaseItem();
    const deletesBefore = appliedDeletes().length;
    const presentBefore = present(all);

    // Act
    const { handler } = handlerFor();
    const result = await handler(SCHEDULED_EVENT, context());

    // Assess: nothing changed, the lease and its checkpoint included
    expect(result).toMatchObject({ status: 'alreadyRunning' });
    expect(takeHandOffs(env)).toEqual([]);
    expect(await leaseItem()).toEqual(leaseBefore);
    expect(appliedDeletes()).toHaveLength(deletesBefore);
    expect(present(all)).toEqual(presentBefore);
  });
});
