// The memory of earlier lookups against the emulated DynamoDB through the real SDK: knowledge is
// returned only for the LastModificationDate it was learned at, survives partial batches, expires,
// and is forgotten on request.
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDynamoMemory, type Remembered } from '../../src/state/memory.ts';
import { useTestEmulator } from '../support/emulator.ts';

const TABLE = 'sweep-state-memory-test';
const DAY = 86_400_000;
const now = new Date('2025-06-15T12:00:00Z');
const arn = (index: number) => `arn:aws:scheduler:us-east-1:123456789012:schedule/default/s-${index}`;

let clock: Date;

const env = useTestEmulator();

beforeEach(async () => {
  await env.emulator.services.dynamodb.reset();
  await env.emulator.services.dynamodb.createTable(TABLE, { hash: 'pk' });
  clock = now;
});

function memory() {
  return createDynamoMemory(env.dynamodb, { tableName: TABLE, clock: () => clock, sleep: async () => {} });
}

const knowledgeFor = (index: number, lastModified: number): Remembered =>
  index % 3 === 0
    ? { kind: 'oneTime', lastModified, dueAt: now.getTime() + index * 1000, disabled: index % 2 === 0 }
    : index % 3 === 1
      ? { kind: 'recurring', lastModified }
      : { kind: 'skipped', lastModified, reason: 'unknownTimezone' };

describe('schedule memory', () => {
  it('recalls what was remembered, for the same LastModificationDate only', async () => {
    // Prepare
    const writer = memory();
    for (let index = 0; index < 60; index += 1)
      await writer.remember(arn(index), knowledgeFor(index, 1000 + index));
    await writer.flush();
    const keys = Array.from({ length: 60 }, (_, index) => ({
      arn: arn(index),
      // Every fourth schedule changed since: its knowledge must not come back.
      lastModified: index % 4 === 0 ? 5000 + index : 1000 + index,
    }));

    // Act
    const recalled = await memory().recall(keys);

    // Assess
    const unchanged = Array.from({ length: 60 }, (_, index) => index).filter((index) => index % 4 !== 0);
    const expected = new Map(unchanged.map((index) => [arn(index), knowledgeFor(index, 1000 + index)]));
    expect(recalled).toEqual(expected);
  });

  it('reads and writes every item even when DynamoDB processes only part of each batch', async () => {
    // Prepare
    env.emulator.services.dynamodb.setBatchProcessingLimit(20);
    const writer = memory();
    for (let index = 0; index < 130; index += 1)
      await writer.remember(arn(index), knowledgeFor(index, index));
    await writer.flush();

    // Act
    const reader = memory();
    const recalled = await reader.recall(
      Array.from({ length: 130 }, (_, index) => ({ arn: arn(index), lastModified: index })),
    );

    // Assess
    expect(await env.emulator.services.dynamodb.itemCount(TABLE)).toBe(130);
    expect(recalled.size).toBe(130);
    expect(reader.stats.requests).toBeGreaterThan(2);
  });

  it('forgets a schedule on request', async () => {
    const store = memory();
    await store.remember(arn(1), knowledgeFor(1, 1));
    await store.remember(arn(2), knowledgeFor(2, 2));
    await store.flush();

    await store.forget(arn(1));
    await store.flush();

    const recalled = await store.recall([1, 2].map((index) => ({ arn: arn(index), lastModified: index })));
    expect([...recalled.keys()]).toEqual([arn(2)]);
  });

  it('writes a TTL and stops trusting an entry once it has expired, before DynamoDB removes it', async () => {
    // Prepare
    const store = createDynamoMemory(env.dynamodb, {
      tableName: TABLE,
      clock: () => clock,
      recheckAfterMs: 30 * DAY,
    });
    await store.remember(arn(1), { kind: 'recurring', lastModified: 1 });
    await store.flush();
    const ttl = Number((await env.emulator.services.dynamodb.items(TABLE))[0]?.ttl?.N);

    // Act
    clock = new Date(now.getTime() + 29 * DAY);
    const beforeExpiry = await store.recall([{ arn: arn(1), lastModified: 1 }]);
    clock = new Date(now.getTime() + 31 * DAY);
    const afterExpiry = await store.recall([{ arn: arn(1), lastModified: 1 }]);

    // Assess
    expect(ttl).toBe((now.getTime() + 30 * DAY) / 1000);
    expect(beforeExpiry.size).toBe(1);
    expect(afterExpiry.size).toBe(0);
  });

  it('ignores entries written under another memory version', async () => {
    // Prepare
    const store = memory();
    await store.remember(arn(1), { kind: 'recurring', lastModified: 1 });
    await store.flush();
    const [item] = await env.emulator.services.dynamodb.items(TABLE);
    await env.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: { ...item, v: { N: '999' } } }));

    // Act
    const recalled = await store.recall([{ arn: arn(1), lastModified: 1 }]);

    // Assess
    expect(recalled.size).toBe(0);
  });
});
