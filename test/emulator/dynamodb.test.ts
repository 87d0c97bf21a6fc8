// The emulator's DynamoDB (dynalite behind the emulator's dispatch), exercised through the real SDK
// client over HTTP: what the product relies on, and the emulator's controls applied to it.
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Item } from '../../scripts/emulator/dynamodb.ts';
import { useTestEmulator } from '../support/emulator.ts';

const TableName = 'sweep-state';

const harness = useTestEmulator();

beforeEach(async () => {
  await harness.emulator.services.dynamodb.reset();
  await harness.emulator.services.dynamodb.createTable(TableName, { hash: 'pk', range: 'sk' });
  harness.emulator.plane.resetStats();
  harness.emulator.plane.controls.errorRates = {};
  harness.emulator.plane.controls.latencyByOperation = {};
});

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const key = (pk: string, sk: string) => ({ pk: s(pk), sk: s(sk) });

const putItem = (item: Record<string, AttributeValue>) =>
  harness.dynamodb.send(new PutItemCommand({ TableName, Item: item }));
const getItem = async (pk: string, sk: string) =>
  (await harness.dynamodb.send(new GetItemCommand({ TableName, Key: key(pk, sk) }))).Item;

describe('tables', () => {
  it('creates, describes and deletes a table with a hash and range key', async () => {
    // Act
    await harness.dynamodb.send(
      new CreateTableCommand({
        TableName: 'tombstones',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'group', AttributeType: 'S' },
          { AttributeName: 'deletedAt', AttributeType: 'N' },
        ],
        KeySchema: [
          { AttributeName: 'group', KeyType: 'HASH' },
          { AttributeName: 'deletedAt', KeyType: 'RANGE' },
        ],
      }),
    );
    const described = await harness.dynamodb.send(new DescribeTableCommand({ TableName: 'tombstones' }));
    await harness.dynamodb.send(new DeleteTableCommand({ TableName: 'tombstones' }));
    const afterDelete = harness.dynamodb.send(new DescribeTableCommand({ TableName: 'tombstones' }));

    // Assess
    expect(described.Table).toMatchObject({
      TableStatus: 'ACTIVE',
      KeySchema: [
        { AttributeName: 'group', KeyType: 'HASH' },
        { AttributeName: 'deletedAt', KeyType: 'RANGE' },
      ],
      BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
    });
    expect(described.Table?.CreationDateTime).toBeInstanceOf(Date);
    await expect(afterDelete).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses to create a table twice', async () => {
    // Act
    const attempt = harness.dynamodb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      }),
    );

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ResourceInUseException);
  });

  it('answers ResourceNotFoundException for an item operation on a missing table', async () => {
    // Act
    const attempt = harness.dynamodb.send(
      new GetItemCommand({ TableName: 'no-such-table', Key: { pk: s('a') } }),
    );

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(attempt).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
  });
});

describe('conditional writes', () => {
  it('fails a put guarded by attribute_not_exists when the item exists, and keeps the stored item', async () => {
    // Prepare
    await putItem({ ...key('lease', 'sweep'), owner: s('invocation-1') });

    // Act
    const attempt = harness.dynamodb.send(
      new PutItemCommand({
        TableName,
        Item: { ...key('lease', 'sweep'), owner: s('invocation-2') },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect((await getItem('lease', 'sweep'))?.owner).toEqual(s('invocation-1'));
  });

  it('lets the first guarded put in and returns the old item with ALL_OLD on an overwrite', async () => {
    // Act
    await harness.dynamodb.send(
      new PutItemCommand({
        TableName,
        Item: { ...key('a', 'b'), v: n(1) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    const overwrite = await harness.dynamodb.send(
      new PutItemCommand({ TableName, Item: { ...key('a', 'b'), v: n(2) }, ReturnValues: 'ALL_OLD' }),
    );

    // Assess
    expect(overwrite.Attributes).toEqual({ ...key('a', 'b'), v: n(1) });
    expect((await getItem('a', 'b'))?.v).toEqual(n(2));
  });

  it('deletes only when the version matches', async () => {
    // Prepare
    await putItem({ ...key('cursor', 'default'), version: n(3) });
    const deleteIfVersion = (version: number) =>
      harness.dynamodb.send(
        new DeleteItemCommand({
          TableName,
          Key: key('cursor', 'default'),
          ConditionExpression: '#version = :version',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':version': n(version) },
        }),
      );

    // Act
    const stale = await deleteIfVersion(2).catch((error: unknown) => error);
    const afterStale = await getItem('cursor', 'default');
    await deleteIfVersion(3);

    // Assess
    expect(stale).toBeInstanceOf(ConditionalCheckFailedException);
    expect(afterStale).toBeDefined();
    expect(await getItem('cursor', 'default')).toBeUndefined();
  });
});

describe('UpdateItem', () => {
  it('creates the item on first update: SET with if_not_exists and arithmetic, ADD to a number and a set', async () => {
    // Act
    const first = await harness.dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key: key('run', '2026-03-01'),
        UpdateExpression:
          'SET deleted = if_not_exists(deleted, :zero) + :batch, lastCursor = :cursor ADD pages :one, groups :groups',
        ExpressionAttributeValues: {
          ':zero': n(0),
          ':batch': n(40),
          ':cursor': s('token-1'),
          ':one': n(1),
          ':groups': { SS: ['default', 'billing'] },
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const second = await harness.dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key: key('run', '2026-03-01'),
        UpdateExpression: 'SET deleted = deleted + :batch REMOVE lastCursor ADD pages :one, groups :groups',
        ExpressionAttributeValues: {
          ':batch': n(2),
          ':one': n(1),
          ':groups': { SS: ['default', 'reports'] },
        },
        ReturnValues: 'UPDATED_OLD',
      }),
    );

    // Assess
    expect(first.Attributes).toEqual({
      ...key('run', '2026-03-01'),
      deleted: n(40),
      lastCursor: s('token-1'),
      pages: n(1),
      groups: { SS: ['default', 'billing'] },
    });
    expect(second.Attributes).toEqual({
      deleted: n(40),
      lastCursor: s('token-1'),
      pages: n(1),
      groups: { SS: ['default', 'billing'] },
    });
    const stored = await getItem('run', '2026-03-01');
    expect(stored?.deleted).toEqual(n(42));
    expect(stored?.pages).toEqual(n(2));
    expect(stored?.lastCursor).toBeUndefined();
    expect(new Set(stored?.groups?.SS)).toEqual(new Set(['default', 'billing', 'reports']));
  });

  it('sets nested map members and keeps counters exact beyond 2^53', async () => {
    // Prepare
    await putItem({
      ...key('progress', 'x'),
      detail: { M: { page: n(1) } },
      deletedTotal: { N: '9007199254740993' },
    });

    // Act
    await harness.dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key: key('progress', 'x'),
        UpdateExpression:
          'SET detail.page = detail.page + :one, detail.#token = :token ADD deletedTotal :one',
        ExpressionAttributeNames: { '#token': 'token' },
        ExpressionAttributeValues: { ':one': n(1), ':token': s('abc') },
      }),
    );

    // Assess
    const stored = await getItem('progress', 'x');
    expect(stored?.detail).toEqual({ M: { page: n(2), token: s('abc') } });
    expect(stored?.deletedTotal).toEqual({ N: '9007199254740994' });
  });

  it('applies a conditional update only while the lease is held by the caller', async () => {
    // Prepare
    await putItem({ ...key('lease', 'sweep'), owner: s('invocation-1'), expiresAt: n(100) });
    const renew = (owner: string, now: number) =>
      harness.dynamodb.send(
        new UpdateItemCommand({
          TableName,
          Key: key('lease', 'sweep'),
          UpdateExpression: 'SET expiresAt = :until',
          ConditionExpression: '#owner = :owner OR (attribute_exists(expiresAt) AND expiresAt < :now)',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': s(owner), ':now': n(now), ':until': n(now + 60) },
        }),
      );

    // Act
    const foreignEarly = await renew('invocation-2', 50).catch((error: unknown) => error);
    await renew('invocation-1', 50);
    await renew('invocation-2', 200);

    // Assess
    expect(foreignEarly).toBeInstanceOf(ConditionalCheckFailedException);
    expect((await getItem('lease', 'sweep'))?.expiresAt).toEqual(n(260));
  });

  it('refuses to change a key attribute', async () => {
    // Act
    const attempt = harness.dynamodb.send(
      new UpdateItemCommand({
        TableName,
        Key: key('a', 'b'),
        UpdateExpression: 'SET sk = :other',
        ExpressionAttributeValues: { ':other': s('c') },
      }),
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining('part of the key'),
    });
  });
});

describe('validation', () => {
  it.each([
    {
      case: 'an expression attribute value nobody uses',
      command: () =>
        new PutItemCommand({
          TableName,
          Item: key('a', 'b'),
          ConditionExpression: 'attribute_not_exists(pk)',
          ExpressionAttributeValues: { ':unused': n(1) },
        }),
      message: 'unused in expressions',
    },
    {
      case: 'an undefined expression attribute value',
      command: () =>
        new PutItemCommand({ TableName, Item: key('a', 'b'), ConditionExpression: 'pk = :missing' }),
      message: 'not defined',
    },
    {
      case: 'a reserved word used as a bare attribute name',
      command: () =>
        new PutItemCommand({
          TableName,
          Item: key('a', 'b'),
          ConditionExpression: 'status = :done',
          ExpressionAttributeValues: { ':done': s('done') },
        }),
      message: 'reserved keyword: status',
    },
    {
      case: 'a key of the wrong type',
      command: () => new PutItemCommand({ TableName, Item: { pk: n(1), sk: s('b') } }),
      message: 'Type mismatch for key pk',
    },
    {
      case: 'an item without its range key',
      command: () => new PutItemCommand({ TableName, Item: { pk: s('a') } }),
      message: 'Missing the key sk',
    },
    {
      case: 'a Key with an extra attribute',
      command: () => new GetItemCommand({ TableName, Key: { ...key('a', 'b'), other: s('x') } }),
      message: 'does not match the schema',
    },
    {
      case: 'an unbalanced parenthesis',
      command: () =>
        new PutItemCommand({
          TableName,
          Item: key('a', 'b'),
          ConditionExpression: '(attribute_not_exists(pk)',
        }),
      message: 'Invalid ConditionExpression',
    },
    {
      case: 'SET used twice in one update',
      command: () =>
        new UpdateItemCommand({
          TableName,
          Key: key('a', 'b'),
          UpdateExpression: 'SET x = :v SET y = :v',
          ExpressionAttributeValues: { ':v': n(1) },
        }),
      message: 'can only be used once',
    },
  ])('rejects $case with a ValidationException and writes nothing', async ({ command, message }) => {
    // Act
    const attempt = harness.dynamodb.send(command() as PutItemCommand);

    // Assess
    await expect(attempt).rejects.toMatchObject({
      name: 'ValidationException',
      message: expect.stringContaining(message),
    });
    expect(await harness.emulator.services.dynamodb.itemCount(TableName)).toBe(0);
  });
});

describe('batches', () => {
  it('gets 100 keys in one BatchGetItem with nothing unprocessed', async () => {
    // Prepare
    for (let offset = 0; offset < 120; offset += 24) {
      await harness.dynamodb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [TableName]: Array.from({ length: 24 }, (_, index) => ({
              PutRequest: { Item: { ...key('schedule', `s-${offset + index}`), seen: n(offset + index) } },
            })),
          },
        }),
      );
    }
    const keys = Array.from({ length: 100 }, (_, index) => key('schedule', `s-${index * 2}`));

    // Act
    const response = await harness.dynamodb.send(
      new BatchGetItemCommand({
        RequestItems: { [TableName]: { Keys: keys, ProjectionExpression: 'sk, seen' } },
      }),
    );

    // Assess
    expect(await harness.emulator.services.dynamodb.itemCount(TableName)).toBe(120);
    const items = response.Responses?.[TableName] ?? [];
    expect(items).toHaveLength(60);
    expect(items.map((item) => Number(item.seen?.N)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 60 }, (_, index) => index * 2),
    );
    expect(items[0]?.pk).toBeUndefined();
    expect(response.UnprocessedKeys).toEqual({});
  });

  it('rejects 101 keys and 26 writes', async () => {
    // Act
    const get = harness.dynamodb.send(
      new BatchGetItemCommand({
        RequestItems: {
          [TableName]: { Keys: Array.from({ length: 101 }, (_, index) => key('a', `${index}`)) },
        },
      }),
    );
    const write = harness.dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [TableName]: Array.from({ length: 26 }, (_, index) => ({
            PutRequest: { Item: key('a', `${index}`) },
          })),
        },
      }),
    );

    // Assess
    await expect(get).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(write).rejects.toMatchObject({ name: 'ValidationException' });
    expect(await harness.emulator.services.dynamodb.itemCount(TableName)).toBe(0);
  });

  it('hands back what it did not process when a processing limit is set', async () => {
    // Prepare
    harness.emulator.services.dynamodb.setBatchProcessingLimit(3);

    // Act
    const response = await harness.dynamodb.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [TableName]: Array.from({ length: 5 }, (_, index) => ({
            PutRequest: { Item: key('a', `${index}`) },
          })),
        },
      }),
    );

    // Assess
    expect(await harness.emulator.services.dynamodb.itemCount(TableName)).toBe(3);
    expect(response.UnprocessedItems?.[TableName]?.map((request) => request.PutRequest?.Item?.sk)).toEqual([
      s('3'),
      s('4'),
    ]);
  });
});

describe('Query and Scan', () => {
  beforeEach(async () => {
    const requests = [
      ...['2026-03-01', '2026-03-02', '2026-03-03', '2026-04-01', '2026-04-02'].map((day) => ({
        PutRequest: { Item: { ...key('runs', `day#${day}`), deleted: n(Number(day.slice(-2))) } },
      })),
      { PutRequest: { Item: { ...key('other', 'day#2026-03-01'), deleted: n(99) } } },
    ];
    await harness.dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [TableName]: requests } }));
  });

  it('queries one hash key with begins_with on the range key, in range order', async () => {
    // Act
    const response = await harness.dynamodb.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :month)',
        ExpressionAttributeValues: { ':pk': s('runs'), ':month': s('day#2026-03') },
      }),
    );

    // Assess
    expect(response.Items?.map((item) => item.sk?.S)).toEqual([
      'day#2026-03-01',
      'day#2026-03-02',
      'day#2026-03-03',
    ]);
    expect(response.LastEvaluatedKey).toBeUndefined();
  });

  it('pages a descending query with Limit and ExclusiveStartKey, ending with one empty page as DynamoDB does', async () => {
    // Act
    const pages: string[][] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const response = await harness.dynamodb.send(
        new QueryCommand({
          TableName,
          KeyConditionExpression: 'pk = :pk AND sk > :after',
          ExpressionAttributeValues: { ':pk': s('runs'), ':after': s('day#2026-03-01') },
          ScanIndexForward: false,
          Limit: 2,
          ExclusiveStartKey: startKey,
        }),
      );
      pages.push((response.Items ?? []).map((item) => item.sk?.S ?? ''));
      startKey = response.LastEvaluatedKey;
    } while (startKey);

    // Assess
    expect(pages).toEqual([['day#2026-04-02', 'day#2026-04-01'], ['day#2026-03-03', 'day#2026-03-02'], []]);
  });

  it('applies a FilterExpression after Limit, so a page can hold fewer items than the limit', async () => {
    // Act
    const response = await harness.dynamodb.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: 'deleted >= :min',
        ExpressionAttributeValues: { ':pk': s('runs'), ':min': n(2) },
        Limit: 3,
      }),
    );

    // Assess
    expect(response.ScannedCount).toBe(3);
    expect(response.Items?.map((item) => item.sk?.S)).toEqual(['day#2026-03-02', 'day#2026-03-03']);
    expect(response.LastEvaluatedKey).toEqual(key('runs', 'day#2026-03-03'));
  });

  it('rejects a key condition that does not pin the hash key', async () => {
    // Act
    const attempt = harness.dynamodb.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: 'begins_with(sk, :month)',
        ExpressionAttributeValues: { ':month': s('day#') },
      }),
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('scans every item exactly once across pages', async () => {
    // Act
    const seen: string[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const response = await harness.dynamodb.send(
        new ScanCommand({ TableName, Limit: 4, ExclusiveStartKey: startKey }),
      );
      seen.push(...(response.Items ?? []).map((item) => `${item.pk?.S}/${item.sk?.S}`));
      startKey = response.LastEvaluatedKey;
    } while (startKey);

    // Assess
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
  });
});

describe('condition expressions', () => {
  const item: Item = {
    pk: { S: 'a' },
    sk: { S: 'cond' },
    count: { N: '5' },
    name: { S: 'sweep-run' },
    tags: { SS: ['x', 'y'] },
    detail: { M: { state: { S: 'running' }, attempts: { L: [{ N: '1' }, { N: '2' }] } } },
  };

  it.each([
    { expression: 'pk = :a AND #c > :four', expected: true },
    { expression: 'pk = :b OR #c > :four AND #c < :four', expected: false },
    { expression: '(pk = :b OR #c > :four) AND #c < :six', expected: true },
    { expression: 'NOT pk = :b AND NOT attribute_exists(absent)', expected: true },
    { expression: '#c BETWEEN :four AND :six', expected: true },
    { expression: '#c IN (:four, :six)', expected: false },
    { expression: 'begins_with(#n, :prefix)', expected: true },
    { expression: 'contains(tags, :x)', expected: true },
    { expression: 'detail.#s = :running AND detail.attempts[1] = :two', expected: true },
    // A missing attribute equals nothing, so <> holds (DynamoDB's rule, and dynalite's).
    { expression: 'absent <> :a', expected: true },
    { expression: 'size(tags) = :two', expected: true },
    { expression: 'attribute_type(#c, :numberType)', expected: true },
  ])('evaluates $expression to $expected as a write condition', async ({ expression, expected }) => {
    // Prepare
    await putItem(item);
    const allValues: Record<string, AttributeValue> = {
      ':a': s('a'),
      ':b': s('b'),
      ':four': n(4),
      ':six': n(6),
      ':two': n(2),
      ':x': s('x'),
      ':prefix': s('sweep-'),
      ':running': s('running'),
      ':numberType': s('N'),
    };
    const used = Object.fromEntries(Object.entries(allValues).filter(([name]) => expression.includes(name)));
    const allNames: Record<string, string> = { '#c': 'count', '#n': 'name', '#s': 'state' };
    const names = Object.fromEntries(
      Object.entries(allNames).filter(([alias]) => expression.includes(alias)),
    );

    // Act
    const result = await harness.dynamodb
      .send(
        new PutItemCommand({
          TableName,
          Item: item,
          ConditionExpression: expression,
          ExpressionAttributeValues: used,
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        }),
      )
      .then(
        () => true,
        (error: unknown) => {
          if (error instanceof ConditionalCheckFailedException) return false;
          throw error;
        },
      );

    // Assess
    expect(result).toBe(expected);
  });
});

describe('what dynalite lacks, added around it', () => {
  it.each([
    [
      'PutItem',
      () =>
        new PutItemCommand({
          TableName,
          Item: { ...key('lease', 'x'), runId: s('other') },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
    ],
    [
      'UpdateItem',
      () =>
        new UpdateItemCommand({
          TableName,
          Key: key('lease', 'x'),
          UpdateExpression: 'SET runId = :me',
          ConditionExpression: 'runId = :me',
          ExpressionAttributeValues: { ':me': s('me') },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
    ],
    [
      'DeleteItem',
      () =>
        new DeleteItemCommand({
          TableName,
          Key: key('lease', 'x'),
          ConditionExpression: 'runId = :me',
          ExpressionAttributeValues: { ':me': s('me') },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
    ],
  ])(
    '%s with ReturnValuesOnConditionCheckFailure ALL_OLD returns the item that failed the condition',
    async (_, command) => {
      // Prepare
      const stored = { ...key('lease', 'x'), runId: s('holder'), leaseUntil: n(5) };
      await putItem(stored);

      // Act
      const error = await harness.dynamodb
        .send(command() as PutItemCommand)
        .catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(ConditionalCheckFailedException);
      expect((error as ConditionalCheckFailedException).Item).toEqual(stored);
      expect(await getItem('lease', 'x')).toEqual(stored);
    },
  );

  it('leaves Item out when the caller did not ask for it', async () => {
    await putItem({ ...key('lease', 'x'), runId: s('holder') });

    const error = await harness.dynamodb
      .send(
        new PutItemCommand({
          TableName,
          Item: key('lease', 'x'),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ConditionalCheckFailedException);
    expect((error as ConditionalCheckFailedException).Item).toBeUndefined();
  });
});

describe('secondary indexes', () => {
  it('creates a table with a global secondary index and queries it', async () => {
    // Prepare
    await harness.dynamodb.send(
      new CreateTableCommand({
        TableName: 'tombstones',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'group', AttributeType: 'S' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byGroup',
            KeySchema: [{ AttributeName: 'group', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    );
    for (const [pk, group] of [
      ['a', 'orders'],
      ['b', 'orders'],
      ['c', 'default'],
    ] as const) {
      await harness.dynamodb.send(
        new PutItemCommand({ TableName: 'tombstones', Item: { pk: s(pk), group: s(group) } }),
      );
    }

    // Act
    const found = await harness.dynamodb.send(
      new QueryCommand({
        TableName: 'tombstones',
        IndexName: 'byGroup',
        KeyConditionExpression: '#g = :g',
        ExpressionAttributeNames: { '#g': 'group' },
        ExpressionAttributeValues: { ':g': s('orders') },
      }),
    );

    // Assess
    expect(found.Items?.map((item) => item.pk?.S).sort()).toEqual(['a', 'b']);
  });
});

describe("the emulator's controls apply to DynamoDB", () => {
  it('counts calls per operation', async () => {
    await putItem({ ...key('a', '1') });
    await getItem('a', '1');

    expect(harness.emulator.plane.statsFor('PutItem').calls).toBe(1);
    expect(harness.emulator.plane.statsFor('GetItem').calls).toBe(1);
  });

  it('answers an injected 500 before the write reaches the store, and DynamoDB names it InternalServerError', async () => {
    harness.emulator.plane.controls.errorRates = { PutItem: 1 };

    const error = await putItem({ ...key('a', '1') }).catch((caught: unknown) => caught);

    expect((error as { name?: string }).name).toBe('InternalServerError');
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(500);
    harness.emulator.plane.controls.errorRates = {};
    expect(await harness.emulator.services.dynamodb.itemCount(TableName)).toBe(0);
  });

  it('adds the configured latency per operation', async () => {
    harness.emulator.plane.controls.latencyByOperation = { GetItem: 150 };

    const started = Date.now();
    await getItem('a', '1');

    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('reset drops every table', async () => {
    await putItem({ ...key('a', '1') });

    await harness.emulator.services.dynamodb.reset();
    const missing = harness.dynamodb.send(new DescribeTableCommand({ TableName }));

    await expect(missing).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
