// The tombstone store against the emulator's DynamoDB through the real SDK: batched writes, outcomes,
// expiry, and finding tombstones by group, name, prefix, sweep run, time range and key.

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { createOriginVerifier, tableArnFor, withoutOrigin } from '../../src/tombstone/origin.ts';
import { findTombstones, type Tombstone, type TombstoneQuery } from '../../src/tombstone/query.ts';
import {
  createDynamoTombstoneStore,
  OUTCOME_LINGER_MS,
  type ScheduleDefinition,
} from '../../src/tombstone/store.ts';
import { useTestEmulator } from '../support/emulator.ts';
import { createTombstoneTable, TOMBSTONE_TABLE, tombstoneMacKey } from '../support/tombstones.ts';
import { oneTime } from '../sweep/fixtures.ts';

const env = useTestEmulator();
const clock = () => env.emulator.plane.now();

beforeEach(async () => {
  await env.emulator.services.dynamodb.reset();
  await createTombstoneTable(env);
  env.emulator.plane.faults.reset();
  env.emulator.plane.resetStats();
  env.emulator.plane.setNow(new Date('2025-06-15T12:00:00Z'));
});

function definition(name: string, group = 'default'): ScheduleDefinition {
  const seed: SeedDefinition = oneTime({ name, group, at: '2025-06-01T09:00:00' });
  return {
    ...seed,
    Arn: `arn:aws:scheduler:us-east-1:123456789012:schedule/${group}/${name}`,
    CreationDate: new Date('2025-05-01T00:00:00Z'),
    LastModificationDate: new Date('2025-05-01T00:00:00Z'),
  } as ScheduleDefinition;
}

async function write(names: string[], options: { group?: string; runId?: string } = {}) {
  const store = createDynamoTombstoneStore(env.dynamodb, {
    tableName: TOMBSTONE_TABLE,
    mac: { kms: env.kms, keyId: tombstoneMacKey(env) },
    tableArn: tableArnFor(tombstoneMacKey(env), TOMBSTONE_TABLE),
    clock,
    retentionDays: 30,
  });
  const receipts = await Promise.all(
    names.map((name) =>
      store.write({
        definition: definition(name, options.group),
        runId: options.runId ?? 'run-1',
        finishedAt: new Date('2025-06-02T10:00:00Z'),
        stuck: false,
      }),
    ),
  );
  await store.flush();
  return { store, receipts };
}

async function find(query: TombstoneQuery): Promise<string[]> {
  const found: string[] = [];
  for await (const tombstone of findTombstones(env.dynamodb, TOMBSTONE_TABLE, query, clock)) {
    found.push(`${tombstone.group}/${tombstone.name}`);
  }
  return found.sort();
}

describe('tombstone store', () => {
  it('batches concurrent writes: 25 items per BatchWriteItem, three items per tombstone', async () => {
    await write(Array.from({ length: 30 }, (_, index) => `s${index}`));

    // 30 tombstones x 3 items = 90 items, 8 tombstones (24 items) per call.
    expect(env.emulator.plane.stats.get('BatchWriteItem')?.calls).toBe(4);
    expect(await env.emulator.services.dynamodb.itemCount(TOMBSTONE_TABLE)).toBe(90);
  });

  it('finds a time range newest first across days, so a restore brings back the latest definition', async () => {
    // Prepare: the same schedule deleted on the 13th, among 99 others (a whole BatchGetItem of
    // 100 tombstones that day), and again on the 15th
    env.emulator.plane.setNow(new Date('2025-06-13T08:00:00Z'));
    await write(['twice', ...Array.from({ length: 99 }, (_, index) => `other-${index}`)]);
    env.emulator.plane.setNow(new Date('2025-06-15T08:00:00Z'));
    await write(['twice']);

    // Act
    const deletedAt: string[] = [];
    const query = { from: new Date('2025-06-12T00:00:00Z'), to: new Date('2025-06-15T12:00:00Z') };
    for await (const tombstone of findTombstones(env.dynamodb, TOMBSTONE_TABLE, query, clock)) {
      if (tombstone.name === 'twice') deletedAt.push(tombstone.deletedAt);
    }

    // Assess
    // (The emulator's clock runs on from each setNow: compared by day, as the order is the point.)
    expect(deletedAt.map((instant) => instant.slice(0, 10))).toEqual(['2025-06-15', '2025-06-13']);
  });

  it('records an outcome on the tombstone only, never creating an item for an unknown key', async () => {
    const { store, receipts } = await write(['a']);
    const errors: unknown[] = [];
    const strict = createDynamoTombstoneStore(env.dynamodb, {
      tableName: TOMBSTONE_TABLE,
      mac: { kms: env.kms, keyId: tombstoneMacKey(env) },
      tableArn: tableArnFor(tombstoneMacKey(env), TOMBSTONE_TABLE),
      clock,
      onError: (error) => errors.push(error),
    });

    store.settle(receipts[0]!, 'deleted');
    strict.settle({ ...receipts[0]!, key: 'g#default#0|ghost#2025-06-15T12:00:00.000Z' }, 'deleted');
    await store.flush();
    await strict.flush();

    const found = [];
    for await (const tombstone of findTombstones(
      env.dynamodb,
      TOMBSTONE_TABLE,
      { group: 'default', name: 'a' },
      clock,
    ))
      found.push(tombstone);
    expect(found.map((tombstone) => tombstone.outcome)).toEqual(['deleted']);
    expect(errors).toHaveLength(1);
    expect(await env.emulator.services.dynamodb.itemCount(TOMBSTONE_TABLE)).toBe(3);
  });

  it('records outcomes in the same BatchWriteItem calls as tombstones: the tombstone put again whole, no UpdateItem', async () => {
    // Prepare: six tombstones written (18 items, one call after the linger).
    const { store, receipts } = await write(['a', 'b', 'c', 'd', 'e', 'f']);
    const before = await env.emulator.services.dynamodb.items(TOMBSTONE_TABLE);
    env.emulator.plane.resetStats();

    // Act: their outcomes, and two more tombstones, in flight together.
    for (const [index, receipt] of receipts.entries()) {
      store.settle(receipt, index === 0 ? 'unknown' : 'deleted');
    }
    const more = ['g', 'h'].map((name) =>
      store.write({
        definition: definition(name),
        runId: 'run-1',
        finishedAt: new Date('2025-06-02T10:00:00Z'),
        stuck: false,
      }),
    );
    await Promise.all(more);
    await store.flush();

    // Assess: one call carried the two tombstones (6 items) and the six outcomes; nothing else was sent.
    expect(env.emulator.plane.stats.get('BatchWriteItem')?.calls).toBe(1);
    expect(env.emulator.plane.stats.get('UpdateItem')?.calls ?? 0).toBe(0);
    const after = await env.emulator.services.dynamodb.items(TOMBSTONE_TABLE);
    expect(after).toHaveLength(24);
    const outcomes: Record<string, string | undefined> = {};
    const read: Tombstone[] = [];
    for await (const tombstone of findTombstones(
      env.dynamodb,
      TOMBSTONE_TABLE,
      { group: 'default' },
      clock,
    )) {
      outcomes[tombstone.name] = tombstone.outcome;
      read.push(tombstone);
    }
    expect(outcomes).toEqual({
      a: 'unknown',
      b: 'deleted',
      c: 'deleted',
      d: 'deleted',
      e: 'deleted',
      f: 'deleted',
      g: 'pending',
      h: 'pending',
    });
    // The tombstone is the same item with its outcome: definition, fingerprint and keys unchanged;
    // it is signed again over the outcome, and verifies.
    const strip = (item: Record<string, unknown>) => {
      const {
        outcome: _outcome,
        outcomeAt: _outcomeAt,
        ...rest
      } = withoutOrigin(item as Record<string, AttributeValue>);
      return rest;
    };
    const verify = createOriginVerifier(
      { kms: env.kms, keyId: tombstoneMacKey(env) },
      tableArnFor(tombstoneMacKey(env), TOMBSTONE_TABLE),
    );
    expect(read).toHaveLength(8);
    for (const tombstone of read) expect(await verify(tombstone.stored)).toEqual({ verified: true });
    const byKey = (items: Record<string, { S?: string }>[]) =>
      new Map(items.map((item) => [`${item.pk?.S}|${item.sk?.S}`, item]));
    const stored = byKey(after as Record<string, { S?: string }>[]);
    for (const [key, item] of byKey(before as Record<string, { S?: string }>[])) {
      expect(strip(stored.get(key) as Record<string, unknown>)).toEqual(strip(item));
    }
  });

  it('sends outcomes alone only in full calls of 25, or once OUTCOME_LINGER_MS has passed: no delete waits on them', async () => {
    // Prepare: 30 tombstones written and acknowledged (four calls), then the store waits for outcomes.
    const names = Array.from({ length: 30 }, (_, index) => `o-${String(index).padStart(2, '0')}`);
    const { store, receipts } = await write(names);
    env.emulator.plane.resetStats();
    const calls = () => env.emulator.plane.stats.get('BatchWriteItem')?.calls ?? 0;
    // When the emulator has counted `count` calls (it counts a request as it arrives), polled: a
    // loaded machine delays arrivals, never a timer's firing before its time.
    const arrivedAt = async (count: number) => {
      while (calls() < count) await new Promise((resolve) => setTimeout(resolve, 5));
      return performance.now();
    };

    // Act: 30 outcomes settle at once
    const settledAt = performance.now();
    for (const receipt of receipts) store.settle(receipt, 'deleted');
    const fullAt = await arrivedAt(1);
    const restAt = await arrivedAt(2);
    await store.flush();

    // Assess: one full call of 25 without waiting for the outcome linger, the other five once it
    // passed (not at the tombstones' own 5 ms linger); every outcome recorded.
    expect(fullAt - settledAt).toBeLessThan(OUTCOME_LINGER_MS);
    expect(restAt - settledAt).toBeGreaterThanOrEqual(OUTCOME_LINGER_MS);
    expect(calls()).toBe(2);
    const outcomes = new Set<string | undefined>();
    for await (const tombstone of findTombstones(
      env.dynamodb,
      TOMBSTONE_TABLE,
      { group: 'default' },
      clock,
    )) {
      outcomes.add(tombstone.outcome);
    }
    expect([...outcomes]).toEqual(['deleted']);
  });

  it('finds tombstones by group, exact name, name prefix, sweep run, time range and key', async () => {
    await write(['order-1', 'order-2', 'invoice-1'], { group: 'billing', runId: 'run-a' });
    env.emulator.plane.setNow(new Date('2025-06-16T08:00:00Z'));
    const { receipts } = await write(['order-3', 'orderly'], { group: 'shop', runId: 'run-b' });

    expect(await find({ group: 'billing' })).toEqual([
      'billing/invoice-1',
      'billing/order-1',
      'billing/order-2',
    ]);
    expect(await find({ group: 'billing', name: 'order-1' })).toEqual(['billing/order-1']);
    expect(await find({ group: 'shop', namePrefix: 'order-' })).toEqual(['shop/order-3']);
    expect(await find({ runId: 'run-a', namePrefix: 'order' })).toEqual([
      'billing/order-1',
      'billing/order-2',
    ]);
    expect(await find({ from: new Date('2025-06-16T00:00:00Z') })).toEqual(['shop/order-3', 'shop/orderly']);
    expect(
      await find({
        from: new Date('2025-06-15T00:00:00Z'),
        to: new Date('2025-06-15T23:59:59Z'),
        namePrefix: 'inv',
      }),
    ).toEqual(['billing/invoice-1']);
    expect(await find({ key: receipts[1]!.key })).toEqual(['shop/orderly']);
    await expect(find({ namePrefix: 'order' })).rejects.toThrow(/one of --key, --group, --run or --from/);
  });

  it('no longer finds a tombstone past its retention, even before DynamoDB removes it', async () => {
    await write(['old']);
    env.emulator.plane.setNow(new Date('2025-07-16T12:00:00Z'));

    expect(await find({ group: 'default' })).toEqual([]);
  });
});
