// Protection as the delete gate reads it, through the real SDK against the emulator: names protected
// by restore --keep have an item each (no per-group ceiling), reads of many names share BatchGetItem
// requests, and a read that fails keeps the schedule.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryLogger } from '../../src/log.ts';
import {
  createProtection,
  NAME_READ_LINGER_MS,
  protectNames,
  REFRESH_READ_LINGER_MS,
  unprotectNames,
} from '../../src/protect/protection.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';

const env = useTestEmulator();
const TABLE = 'schedule-hygiene-test-protection-state';

beforeEach(async () => {
  await env.emulator.services.dynamodb.reset();
  await env.emulator.services.dynamodb.createTable(TABLE, { hash: 'pk' });
  env.emulator.services.scheduler.reset();
  env.emulator.plane.resetStats();
  env.emulator.plane.faults.reset();
});

const summary = (name: string, group = 'default') => ({
  Name: name,
  GroupName: group,
  Arn: `arn:aws:scheduler:${REGION}:${ACCOUNT_ID}:schedule/${group}/${name}`,
});

const protection = () =>
  createProtection({
    scheduler: env.scheduler,
    prefixes: [],
    state: { dynamodb: env.dynamodb, tableName: TABLE },
    log: createMemoryLogger(),
  });

describe('protection at the delete gate', () => {
  it('finds a protected name among 200 read at once, in a few shared BatchGetItem requests', async () => {
    await protectNames(env.dynamodb, TABLE, 'default', ['s-137']);
    const check = protection();

    const reads = await Promise.all(
      Array.from({ length: 200 }, (_, index) => check.confirm(summary(`s-${index}`))),
    );

    expect(reads.filter((read) => read.verdict !== undefined).map((read) => read.verdict)).toEqual([
      { kind: 'protected', by: 'restoredKeep' },
    ]);
    expect(reads[137]?.verdict).toEqual({ kind: 'protected', by: 'restoredKeep' });
    expect(env.emulator.plane.stats.get('BatchGetItem')?.calls).toBeLessThanOrEqual(4);
    expect(env.emulator.plane.stats.get('GetItem')?.calls ?? 0).toBeLessThanOrEqual(1); // the group's list item
  });

  it('holds protected names as items of their own (no per-group list to fill), and forgets a name unprotected', async () => {
    env.emulator.services.scheduler.createGroup('orders');
    const names = Array.from({ length: 2_000 }, (_, index) => `restored-${String(index).padStart(5, '0')}`);
    await protectNames(env.dynamodb, TABLE, 'orders', names);
    await unprotectNames(env.dynamodb, TABLE, 'orders', ['restored-00007']);
    const check = protection();

    const [last, forgotten] = await Promise.all([
      check.confirm(summary('restored-01999', 'orders')),
      check.confirm(summary('restored-00007', 'orders')),
    ]);

    expect(last.verdict).toEqual({ kind: 'protected', by: 'restoredKeep' });
    expect(forgotten.verdict).toBeUndefined();
    const items = await env.emulator.services.dynamodb.items(TABLE);
    expect(items.filter((item) => item.pk?.S?.startsWith('protect#orders#'))).toHaveLength(1_999);
  });

  describe('how long a protected-name read waits for company', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** BatchGetItem requests the emulator has answered or is answering. */
    const batchGets = () => env.emulator.plane.stats.get('BatchGetItem')?.calls ?? 0;
    /** Lets a request already started reach the emulator: twenty turns of the event loop's I/O. */
    const settleIo = async () => {
      for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    };

    it('waits NAME_READ_LINGER_MS beside a tombstone, and a read the delete waits on brings the call forward', async () => {
      // Prepare: only setTimeout is held, so the requests themselves run for real
      const check = protection();
      await check.check(summary('warm')); // the group's tag and list, read once
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const before = batchGets();

      // Act: a read beside a tombstone write, then one a refresh waits on
      const beside = check.confirm(summary('beside'));
      await vi.advanceTimersByTimeAsync(REFRESH_READ_LINGER_MS - 1);
      await settleIo();
      const sentBeforeRefresh = batchGets() - before;
      const refresh = check.confirm(summary('refresh'), REFRESH_READ_LINGER_MS);
      await vi.advanceTimersByTimeAsync(REFRESH_READ_LINGER_MS);
      await settleIo();
      const sentByRefresh = batchGets() - before;
      vi.useRealTimers();
      // Asserted before the reads are awaited, which would wait for ever on a timer no longer run.
      expect(sentByRefresh).toBe(1);
      const reads = await Promise.all([beside, refresh]);

      // Assess: nothing left before the refresh asked; then one call carried both
      expect(NAME_READ_LINGER_MS).toBeGreaterThan(2 * REFRESH_READ_LINGER_MS);
      expect(sentBeforeRefresh).toBe(0);
      expect(batchGets() - before).toBe(1);
      expect(reads.map((read) => read.verdict)).toEqual([undefined, undefined]);
    });

    it('sends reads beside tombstones together once NAME_READ_LINGER_MS passes, not before', async () => {
      // Prepare
      const check = protection();
      await check.check(summary('warm'));
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const before = batchGets();

      // Act
      const first = check.confirm(summary('first'));
      await vi.advanceTimersByTimeAsync(NAME_READ_LINGER_MS - 2);
      const second = check.confirm(summary('second'));
      await vi.advanceTimersByTimeAsync(1);
      await settleIo();
      const sentEarly = batchGets() - before;
      await vi.advanceTimersByTimeAsync(1);
      await settleIo();
      const sentAtLinger = batchGets() - before;
      vi.useRealTimers();
      expect(sentAtLinger).toBe(1);
      await Promise.all([first, second]);

      // Assess
      expect(sentEarly).toBe(0);
      expect(batchGets() - before).toBe(1);
    });
  });

  it('keeps a schedule whose protected-name read fails: unknown, never open', async () => {
    env.emulator.plane.faults.configure({
      rules: [{ kind: 'error', service: 'dynamodb', operation: 'BatchGetItem' }],
    });
    const check = protection();

    const read = await check.confirm(summary('any'));

    expect(read.verdict).toEqual({ kind: 'unknown' });
  });
});
