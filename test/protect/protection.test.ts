// Protection as the delete gate reads it, through the real SDK against the emulator: names protected
// by restore --keep have an item each (no per-group ceiling), reads of many names share BatchGetItem
// requests, and a read that fails keeps the schedule.
import { beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../../src/log.ts';
import { createProtection, protectNames, unprotectNames } from '../../src/protect/protection.ts';
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

  it('keeps a schedule whose protected-name read fails: unknown, never open', async () => {
    env.emulator.plane.faults.configure({
      rules: [{ kind: 'error', service: 'dynamodb', operation: 'BatchGetItem' }],
    });
    const check = protection();

    const read = await check.confirm(summary('any'));

    expect(read.verdict).toEqual({ kind: 'unknown' });
  });
});
