// The emulator's fault model (scripts/emulator/faults.ts) as the real SDK sees it over HTTP: faults
// before the effect, faults after it, duplicated async invokes, expiring and rejected NextTokens, a
// simulated application changing schedules, the applied record, and seeded replay.
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { GetServiceQuotaCommand, TooManyRequestsException } from '@aws-sdk/client-service-quotas';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FaultConfig } from '../../scripts/emulator/faults.ts';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { createDynamoDbClient, createSchedulerClient } from '../../src/aws/clients.ts';
import { ACCOUNT_ID, REGION, useTestEmulator } from '../support/emulator.ts';

const harness = useTestEmulator();
const ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-invoke`;
const TARGET = `arn:aws:lambda:${REGION}:${ACCOUNT_ID}:function:remind`;
const NOW = new Date('2026-03-01T12:00:00Z');

const finished = (name: string): SeedDefinition => ({
  Name: name,
  ScheduleExpression: 'at(2026-02-01T08:00:00)',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: { Arn: TARGET, RoleArn: ROLE },
});

function faults(config: FaultConfig) {
  harness.emulator.plane.faults.configure({ record: true, ...config });
}

const applied = (operation?: string) =>
  harness.emulator.plane.faults.applied().filter((entry) => !operation || entry.operation === operation);

beforeEach(() => {
  harness.emulator.services.scheduler.reset();
  harness.emulator.services.lambda.reset();
  harness.emulator.services.cloudwatch.reset();
  harness.emulator.plane.setNow(NOW);
  harness.emulator.plane.faults.reset();
});

afterEach(() => {
  harness.emulator.plane.faults.reset();
});

describe('faults before the effect', () => {
  it('throttles a DeleteSchedule with 429 and leaves the schedule in place', async () => {
    // Prepare
    harness.emulator.services.scheduler.seed([finished('a')]);
    faults({ rules: [{ kind: 'throttle', service: 'scheduler', operation: 'DeleteSchedule' }] });

    // Act
    const attempt = harness.scheduler.send(new DeleteScheduleCommand({ Name: 'a' }));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ThrottlingException);
    expect(harness.emulator.services.scheduler.has('default', 'a')).toBe(true);
    expect(applied('DeleteSchedule')).toEqual([]);
  });

  it('resets the connection before the service sees the request: nothing applied', async () => {
    // Prepare
    harness.emulator.services.scheduler.seed([finished('a')]);
    faults({ rules: [{ kind: 'reset-before', operation: 'DeleteSchedule' }] });

    // Act
    const attempt = harness.scheduler.send(new DeleteScheduleCommand({ Name: 'a' }));

    // Assess
    await expect(attempt).rejects.toThrow();
    expect(harness.emulator.services.scheduler.has('default', 'a')).toBe(true);
    expect(applied('DeleteSchedule')).toEqual([]);
  });

  it('adds latency to the operations a rule names only', async () => {
    // Prepare
    harness.emulator.services.scheduler.seed([finished('a')]);
    faults({ rules: [{ kind: 'latency', operation: 'GetSchedule', delayMs: 150 }] });

    // Act
    const started = Date.now();
    await harness.scheduler.send(new GetScheduleCommand({ Name: 'a' }));
    const slow = Date.now() - started;
    const listStarted = Date.now();
    await harness.scheduler.send(new ListSchedulesCommand({}));
    const fast = Date.now() - listStarted;

    // Assess
    expect(slow).toBeGreaterThanOrEqual(140);
    expect(fast).toBeLessThan(140);
  });
});

describe('faults after the effect', () => {
  it('applies a DeleteSchedule, then resets the connection: the client sees an error, the schedule is gone', async () => {
    // Prepare
    harness.emulator.services.scheduler.seed([finished('a')]);
    faults({ rules: [{ kind: 'reset', service: 'scheduler', operation: 'DeleteSchedule' }] });

    // Act
    const attempt = harness.scheduler.send(new DeleteScheduleCommand({ Name: 'a' }));

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(harness.emulator.services.scheduler.has('default', 'a')).toBe(false);
    const [entry, ...others] = applied('DeleteSchedule');
    expect(others).toEqual([]);
    expect(entry).toMatchObject({ actor: 'client', applied: true, answer: 'lost', status: 200 });
    expect(entry?.answeredAt).toBeUndefined();
    expect(entry?.detail).toMatchObject({
      group: 'default',
      name: 'a',
      before: { Name: 'a', ScheduleExpression: 'at(2026-02-01T08:00:00)' },
    });
  });

  it('applies a DeleteSchedule and answers after the client timed out', async () => {
    // Prepare: a short client timeout and a late answer just past it keep the test fast.
    harness.emulator.services.scheduler.seed([finished('a')]);
    faults({ lateMs: 400, rules: [{ kind: 'late', operation: 'DeleteSchedule' }] });
    const impatient = createSchedulerClient({
      ...harness.clientOptions,
      maxAttempts: 1,
      requestTimeoutMs: 150,
    });

    // Act
    const attempt = impatient.send(new DeleteScheduleCommand({ Name: 'a' }));

    // Assess
    await expect(attempt).rejects.toThrow(/timed? ?out|timeout/i);
    expect(harness.emulator.services.scheduler.has('default', 'a')).toBe(false);
    expect(applied('DeleteSchedule')).toMatchObject([{ applied: true, answer: 'late' }]);
    impatient.destroy();
  });

  it('applies a conditional PutItem, answers 500, and the SDK retry fails its own condition', async () => {
    // Prepare: the DynamoDB client keeps the SDK's retries, as the lease's client does.
    await harness.dynamodb.send(
      new CreateTableCommand({
        TableName: 'faults-state',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    faults({ rules: [{ kind: 'error-after', service: 'dynamodb', operation: 'PutItem', times: 1 }] });
    const dynamodb = createDynamoDbClient(harness.clientOptions);

    // Act
    const attempt = dynamodb.send(
      new PutItemCommand({
        TableName: 'faults-state',
        Item: { pk: { S: 'lease#sweep' }, runId: { S: 'run-1' } },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    const item = await dynamodb.send(
      new GetItemCommand({
        TableName: 'faults-state',
        Key: { pk: { S: 'lease#sweep' } },
        ConsistentRead: true,
      }),
    );
    expect(item.Item?.runId?.S).toBe('run-1');
    expect(applied('PutItem').map((entry) => [entry.status, entry.answer])).toEqual([
      [200, 'error-after'],
      [400, 'delivered'],
    ]);
    dynamodb.destroy();
  });

  it('stores the metrics of a PutMetricData whose answer was a 500', async () => {
    // Prepare
    faults({ rules: [{ kind: 'error-after', service: 'cloudwatch', operation: 'PutMetricData' }] });

    // Act
    const attempt = harness.cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'Faults/Test',
        MetricData: [{ MetricName: 'SchedulesDeleted', Value: 3, Timestamp: NOW }],
      }),
    );

    // Assess: the SDK retries 500s, so the datum may be stored more than once; never zero times.
    await expect(attempt).rejects.toThrow();
    expect(harness.emulator.services.cloudwatch.datums().length).toBeGreaterThanOrEqual(1);
    expect(applied('PutMetricData').every((entry) => entry.applied && entry.answer === 'error-after')).toBe(
      true,
    );
  });
});

describe('duplicated asynchronous invokes', () => {
  it('delivers an Event invoke twice, and a RequestResponse invoke once', async () => {
    // Prepare
    faults({ rules: [{ kind: 'duplicate', service: 'lambda', operation: 'Invoke' }] });
    const payload = new TextEncoder().encode(JSON.stringify({ continuation: { runId: 'r' } }));

    // Act
    await harness.lambda.send(
      new InvokeCommand({ FunctionName: 'sweep', InvocationType: 'Event', Payload: payload }),
    );
    await harness.lambda.send(
      new InvokeCommand({ FunctionName: 'sweep', InvocationType: 'RequestResponse', Payload: payload }),
    );

    // Assess
    const invocations = harness.emulator.services.lambda.invocations();
    expect(
      invocations.map((invocation) => [invocation.invocationType, invocation.duplicate ?? false]),
    ).toEqual([
      ['Event', false],
      ['Event', true],
      ['RequestResponse', false],
    ]);
    expect(invocations[1]?.payload).toEqual(invocations[0]?.payload);
  });
});

describe('NextTokens', () => {
  const seedMany = () =>
    harness.emulator.services.scheduler.seed(
      Array.from({ length: 5 }, (_, index) => ({
        ...finished(`s${index}`),
        ScheduleExpression: 'rate(1 day)',
      })),
    );

  it('refuses a token used more often than maxUses with ValidationException', async () => {
    // Prepare
    seedMany();
    faults({ tokens: { maxUses: 1 } });
    const first = await harness.scheduler.send(new ListSchedulesCommand({ MaxResults: 2 }));

    // Act
    const second = await harness.scheduler.send(
      new ListSchedulesCommand({ MaxResults: 2, NextToken: first.NextToken }),
    );
    const again = harness.scheduler.send(
      new ListSchedulesCommand({ MaxResults: 2, NextToken: first.NextToken }),
    );

    // Assess
    expect(second.Schedules?.map((schedule) => schedule.Name)).toEqual(['s2', 's3']);
    await expect(again).rejects.toBeInstanceOf(ValidationException);
    await expect(again).rejects.toThrow('The NextToken has expired.');
  });

  it('treats a token handed out again (the same cursor listed afresh) as a fresh token', async () => {
    // Prepare
    seedMany();
    faults({ tokens: { maxUses: 1 } });
    const first = await harness.scheduler.send(new ListSchedulesCommand({ MaxResults: 2 }));
    await harness.scheduler.send(new ListSchedulesCommand({ MaxResults: 2, NextToken: first.NextToken }));

    // Act: a new listing from the first page is handed the same token text
    const again = await harness.scheduler.send(new ListSchedulesCommand({ MaxResults: 2 }));
    const next = await harness.scheduler.send(
      new ListSchedulesCommand({ MaxResults: 2, NextToken: again.NextToken }),
    );

    // Assess
    expect(again.NextToken).toBe(first.NextToken);
    expect(next.Schedules?.map((schedule) => schedule.Name)).toEqual(['s2', 's3']);
  });

  it('refuses a token older than maxAgeMs in emulator time', async () => {
    // Prepare
    seedMany();
    faults({ tokens: { maxAgeMs: 60_000 } });
    const first = await harness.scheduler.send(new ListSchedulesCommand({ MaxResults: 2 }));
    harness.emulator.plane.setNow(new Date(NOW.getTime() + 61_000));

    // Act
    const late = harness.scheduler.send(
      new ListSchedulesCommand({ MaxResults: 2, NextToken: first.NextToken }),
    );

    // Assess
    await expect(late).rejects.toBeInstanceOf(ValidationException);
  });

  it('rejects requests that carry a token, and only those, under reject-token', async () => {
    // Prepare
    seedMany();
    faults({ rules: [{ kind: 'reject-token', service: 'scheduler' }] });

    // Act
    const first = await harness.scheduler.send(new ListSchedulesCommand({ MaxResults: 2 }));
    const next = harness.scheduler.send(
      new ListSchedulesCommand({ MaxResults: 2, NextToken: first.NextToken }),
    );

    // Assess
    expect(first.Schedules).toHaveLength(2);
    await expect(next).rejects.toThrow('Invalid NextToken.');
  });
});

describe('a simulated application', () => {
  it('updates a schedule to a future at() just before the GetSchedule that reads it', async () => {
    // Prepare
    harness.emulator.services.scheduler.seed([finished('a')]);
    faults({ seed: 7, application: [{ action: 'update', operation: 'GetSchedule', when: 'before' }] });

    // Act
    const read = await harness.scheduler.send(new GetScheduleCommand({ Name: 'a' }));

    // Assess
    const due = Date.parse(`${/^at\((.*)\)$/.exec(read.ScheduleExpression ?? '')?.[1]}Z`);
    expect(due).toBeGreaterThan(NOW.getTime() + 3_600_000 - 1);
    expect(read.State).toBe('ENABLED');
    expect(applied().map((entry) => [entry.actor, entry.operation])).toEqual([
      ['application', 'UpdateSchedule'],
      ['client', 'GetSchedule'],
    ]);
  });

  it('updates a schedule right after the GetSchedule was answered: the reader saw the old definition', async () => {
    // Prepare
    harness.emulator.services.scheduler.seed([finished('a')]);
    faults({ application: [{ action: 'update', operation: 'GetSchedule', when: 'after' }] });

    // Act
    const read = await harness.scheduler.send(new GetScheduleCommand({ Name: 'a' }));

    // Assess
    expect(read.ScheduleExpression).toBe('at(2026-02-01T08:00:00)');
    expect(harness.emulator.services.scheduler.get('default', 'a')?.ScheduleExpression).not.toBe(
      'at(2026-02-01T08:00:00)',
    );
    const [get, update] = applied();
    expect(get?.operation).toBe('GetSchedule');
    expect(update).toMatchObject({ actor: 'application', operation: 'UpdateSchedule' });
    expect(update?.seq).toBeGreaterThan(get?.seq ?? Number.POSITIVE_INFINITY);
  });

  it('recreates a schedule just before a DeleteSchedule: the record shows which definition was deleted', async () => {
    // Prepare
    harness.emulator.services.scheduler.seed([finished('a')]);
    faults({ application: [{ action: 'recreate', operation: 'DeleteSchedule', when: 'before' }] });

    // Act
    await harness.scheduler.send(new DeleteScheduleCommand({ Name: 'a' }));

    // Assess
    expect(applied().map((entry) => [entry.actor, entry.operation])).toEqual([
      ['application', 'DeleteSchedule'],
      ['application', 'CreateSchedule'],
      ['client', 'DeleteSchedule'],
    ]);
    const deleted = applied('DeleteSchedule').at(-1)?.detail?.before as { ScheduleExpression: string };
    expect(deleted.ScheduleExpression).not.toBe('at(2026-02-01T08:00:00)');
  });
});

describe('seeded replay', () => {
  async function run(seed: number, reverse = false): Promise<string[]> {
    harness.emulator.services.scheduler.reset();
    harness.emulator.services.scheduler.seed(Array.from({ length: 30 }, (_, index) => finished(`s${index}`)));
    faults({ seed, rules: [{ kind: 'throttle', operation: 'DeleteSchedule', probability: 0.5 }] });
    // Concurrent and in a shuffled order: decisions depend on the request, not on arrival order.
    const names = Array.from({ length: 30 }, (_, index) => `s${index}`);
    const order = reverse ? [...names].reverse() : names;
    await Promise.allSettled(
      order.map((name) => harness.scheduler.send(new DeleteScheduleCommand({ Name: name }))),
    );
    return names.filter((name) => harness.emulator.services.scheduler.has('default', name));
  }

  it('strikes the same requests for the same seed whatever the arrival order', async () => {
    // Act
    const first = await run(42);
    const reversed = await run(42, true);
    const other = await run(1001);

    // Assess
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(30);
    expect(reversed).toEqual(first);
    expect(other).not.toEqual(first);
  });
});

describe('HTTP controls', () => {
  it('configures faults and reads the applied record through /_emulator/', async () => {
    // Prepare
    harness.emulator.services.scheduler.seed([finished('a')]);
    const post = (path: string, body: unknown) =>
      fetch(`${harness.emulator.url}/_emulator/${path}`, { method: 'POST', body: JSON.stringify(body) });

    // Act
    const configured = await post('faults', {
      seed: 3,
      record: true,
      rules: [{ kind: 'reset', operation: 'DeleteSchedule' }],
    });
    await harness.scheduler.send(new DeleteScheduleCommand({ Name: 'a' })).catch(() => undefined);
    const record = (await (await fetch(`${harness.emulator.url}/_emulator/applied`)).json()) as {
      applied: { operation: string; answer: string }[];
      injected: { kind: string }[];
    };
    const refused = await post('faults', { rules: [{ kind: 'explode' }] });

    // Assess
    expect(configured.status).toBe(200);
    expect(record.applied).toMatchObject([{ operation: 'DeleteSchedule', answer: 'lost' }]);
    expect(record.injected).toMatchObject([{ kind: 'reset' }]);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { message: string }).message).toContain('rules[0].kind');
  });
});

describe('HTTP controls: /_emulator/controls', () => {
  const post = (body: unknown) =>
    fetch(`${harness.emulator.url}/_emulator/controls`, { method: 'POST', body: JSON.stringify(body) });
  afterEach(() => {
    harness.emulator.plane.controls.errorRates = {};
  });

  it.each([
    ['a misspelt control', { latencyMS: 5000 }, 'latencyMS: no such control'],
    ['a string for a number', { latencyMs: 'abc' }, 'latencyMs: expected milliseconds from 0 to 2147483647'],
    ['a negative latency', { latencyMs: -1 }, 'latencyMs: expected milliseconds from 0 to 2147483647'],
    ['a share above 1', { errorRates: { DeleteSchedule: 2 } }, 'errorRates.DeleteSchedule: expected a share'],
    ['a date that is none', { now: 'soon' }, 'now: expected an ISO 8601 date-time'],
  ])('refuses %s with a 400 naming the field, and changes nothing', async (_label, body, message) => {
    // Act
    const answer = await post(body);

    // Assess
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { message: string }).message).toContain(message);
    expect(harness.emulator.plane.controls.latencyMs).toBe(0);
    expect(harness.emulator.plane.controls.errorRates).toEqual({});
  });

  it('accepts the known controls', async () => {
    // Act
    const answer = await post({ latencyMs: 0, errorRates: { '*': 0 } });

    // Assess
    expect(answer.status).toBe(200);
    expect(harness.emulator.plane.controls.errorRates).toEqual({ '*': 0 });
  });
});

describe('Service Quotas', () => {
  it('answers as before without faults, and throttles under a rule with its own error name', async () => {
    // Prepare
    const input = { ServiceCode: 'scheduler', QuotaCode: 'L-D4ABB1F7' };
    const ok = await harness.serviceQuotas.send(new GetServiceQuotaCommand(input)).then(
      () => true,
      (error: Error) => error.name !== 'TooManyRequestsException',
    );
    faults({ rules: [{ kind: 'throttle', service: 'servicequotas' }] });

    // Act
    const throttled = harness.serviceQuotas.send(new GetServiceQuotaCommand(input));

    // Assess
    expect(ok).toBe(true);
    await expect(throttled).rejects.toBeInstanceOf(TooManyRequestsException);
  });
});
