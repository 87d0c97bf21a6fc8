// The emulator's HTTP controls (/_emulator/...) answer a request they cannot take with what they
// expected: 400 for a body or value they do not understand, 404 for an action a service does not
// have, changing nothing; never a 500 that reads as the emulator's own fault.
import { describe, expect, it } from 'vitest';
import { isCalendarDateTime, MAX_DELAY_MS } from '../../scripts/emulator/core.ts';
import { useTestEmulator } from '../support/emulator.ts';

const harness = useTestEmulator();

async function post(route: string, body: string): Promise<{ status: number; message: string }> {
  const answer = await fetch(`${harness.emulator.url}/_emulator/${route}`, { method: 'POST', body });
  return { status: answer.status, message: ((await answer.json()) as { message?: string }).message ?? '' };
}

describe('emulator controls refuse what they cannot take', () => {
  it('answers a body that is not a JSON object with a 400 saying so, on every route', async () => {
    for (const route of ['scheduler/seed', 'cloudwatch/seed', 'dynamodb/createTable', 'controls']) {
      expect(await post(route, '{not json')).toEqual({
        status: 400,
        message: 'Control body: expected a JSON object, got text that is not JSON',
      });
      expect(await post(route, 'null')).toMatchObject({
        status: 400,
        message: expect.stringContaining('null'),
      });
    }
  });

  it('answers an action a service does not have with a 404 naming it', async () => {
    for (const service of [
      'scheduler',
      'cloudwatch',
      'dynamodb',
      'kms',
      'sts',
      'lambda',
      'cloudformation',
      'servicequotas',
    ]) {
      const answer = await post(`${service}/nonsense`, '{}');
      expect({ service, status: answer.status }).toEqual({ service, status: 404 });
      expect(answer.message).toContain('nonsense');
    }
  });

  it('answers a value it does not understand with a 400 naming it, changing nothing', async () => {
    const before = harness.emulator.services.scheduler.scheduleQuota();
    expect(await post('scheduler/quota', '{"quota":"abc"}')).toMatchObject({
      status: 400,
      message: expect.stringContaining('Schedule quota must be a whole number'),
    });
    expect(harness.emulator.services.scheduler.scheduleQuota()).toBe(before);
    expect(await post('scheduler/synthesize', '{"count":-5}')).toMatchObject({
      status: 400,
      message: expect.stringContaining('count must be a whole number'),
    });
    // A member spelt otherwise than the control's (AWS's Dimensions for dimensions) is refused, not dropped.
    expect(
      await post('cloudwatch/seed', '{"namespace":"AWS/Usage","metricName":"M","value":1,"Dimensions":[]}'),
    ).toMatchObject({ status: 400, message: expect.stringContaining('Dimensions') });
    expect(harness.emulator.services.cloudwatch.datums({ namespace: 'AWS/Usage' })).toEqual([]);
  });

  it('refuses a time that is no real instant, instead of rolling it over to another', async () => {
    const seed = (timestamp: string) =>
      post(
        'cloudwatch/seed',
        JSON.stringify({ namespace: 'AWS/Usage', metricName: 'M', value: 1, timestamp }),
      );
    for (const timestamp of ['2026-02-30T00:00:00Z', '2026-04-31T12:00:00Z', '2026-01-01T24:00:00Z']) {
      expect({ timestamp, ...(await seed(timestamp)) }).toMatchObject({
        timestamp,
        status: 400,
        message: expect.stringContaining('timestamp: expected an ISO 8601 time of a real day'),
      });
    }
    const before = (await (
      await fetch(`${harness.emulator.url}/_emulator/controls`, { method: 'POST', body: '{}' })
    ).json()) as {
      now: string;
    };
    const now = await post('controls', '{"now":"2027-02-29T00:00:00Z"}');
    expect(now).toMatchObject({
      status: 400,
      message: expect.stringContaining('Control now: expected an ISO 8601'),
    });
    expect(Math.abs(harness.emulator.plane.now().getTime() - Date.parse(before.now))).toBeLessThan(60_000);
    expect(harness.emulator.services.cloudwatch.datums({ namespace: 'AWS/Usage' })).toEqual([]);
    // A real leap day passes.
    expect((await seed('2028-02-29T23:59:59.5+01:00')).status).toBe(200);
  });

  it("holds seeded datums to PutMetricData's limits: 30 dimensions, a value CloudWatch stores", async () => {
    const dimensions = Array.from({ length: 31 }, (_, index) => ({ Name: `D${index}`, Value: 'v' }));
    const body = (extra: object) =>
      JSON.stringify({ namespace: 'Seeded', metricName: 'M', value: 1, ...extra });
    expect(await post('cloudwatch/seed', body({ dimensions }))).toMatchObject({
      status: 400,
      message: expect.stringContaining('must not have a size greater than 30'),
    });
    expect(
      await post(
        'cloudwatch/seed',
        body({
          dimensions: [
            { Name: 'A', Value: 'x' },
            { Name: 'A', Value: 'y' },
          ],
        }),
      ),
    ).toMatchObject({ status: 400, message: expect.stringContaining('duplicate dimension names') });
    expect(await post('cloudwatch/seed', body({ value: 1e308 }))).toMatchObject({
      status: 400,
      message: expect.stringContaining('parameter value is invalid'),
    });
    expect(harness.emulator.services.cloudwatch.datums({ namespace: 'Seeded' })).toEqual([]);
    expect((await post('cloudwatch/seed', body({ dimensions: dimensions.slice(0, 30) }))).status).toBe(200);
  });

  it('refuses a delay longer than a timer can wait, which Node would run after 1 ms', async () => {
    const controls = { ...harness.emulator.plane.controls };
    for (const body of [
      { latencyMs: MAX_DELAY_MS + 1 },
      { latencyByOperation: { GetSchedule: 3e9 } },
      { clockOffsetMs: 1e308 },
    ]) {
      const answer = await post('controls', JSON.stringify(body));
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
      expect(answer.message).toContain(Object.keys(body)[0]);
    }
    expect(harness.emulator.plane.controls).toEqual(controls);
    const fault = await post(
      'faults',
      JSON.stringify({ rules: [{ kind: 'latency', service: 'scheduler', delayMs: 3e9 }] }),
    );
    expect(fault).toMatchObject({ status: 400, message: expect.stringContaining('rules[0].delayMs') });
    expect((await post('controls', JSON.stringify({ latencyMs: MAX_DELAY_MS }))).status).toBe(200);
    await post('controls', JSON.stringify({ latencyMs: controls.latencyMs }));
  });
});

describe('emulator controls: the rest of their limits', () => {
  it('refuses a seeded schedule time that is no real instant, and takes a real one', async () => {
    const schedule = (CreationDate: string) =>
      JSON.stringify({
        schedules: [
          {
            Name: `seeded-${CreationDate.length}`,
            ScheduleExpression: 'at(2025-07-01T09:00:00)',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: {
              Arn: 'arn:aws:sqs:us-east-1:123456789012:q',
              RoleArn: 'arn:aws:iam::123456789012:role/r',
            },
            CreationDate,
          },
        ],
      });
    for (const time of ['2025-02-30T00:00:00Z', '2025-06-15T12:00:00', 'June 15 2025']) {
      const answer = await post('scheduler/seed', schedule(time));
      expect({ time, status: answer.status }).toEqual({ time, status: 400 });
      expect(answer.message).toContain('CreationDate');
    }
    expect((await post('scheduler/seed', schedule('2025-06-15T12:00:00.000Z'))).status).toBe(200);
  });

  it('refuses a fault config whose lists or objects are not, naming the field', async () => {
    for (const [body, field] of [
      ['{"rules":null}', 'rules must be an array'],
      ['{"rules":[null]}', 'rules[0] must be an object'],
      ['{"application":{}}', 'application must be an array'],
      ['{"tokens":null}', 'tokens must be an object'],
      ['{"record":"yes"}', 'record must be true or false'],
    ] as const) {
      expect({ body, ...(await post('faults', body)) }).toMatchObject({
        body,
        status: 400,
        message: expect.stringContaining(field),
      });
    }
  });

  it('takes a token age beyond a timer (an age, not a delay), and metric names only of 1-255', async () => {
    expect((await post('faults', JSON.stringify({ tokens: { maxAgeMs: 30 * 86_400_000 } }))).status).toBe(
      200,
    );
    await post('faults', '{}');
    const seed = (extra: object) =>
      post(
        'cloudwatch/seed',
        JSON.stringify({ namespace: 'SeededNames', metricName: 'M', value: 1, ...extra }),
      );
    expect(await seed({ metricName: 'M'.repeat(256) })).toMatchObject({
      status: 400,
      message: expect.stringContaining('metricName: expected a metric name of 1-255 characters'),
    });
    expect(await seed({ namespace: 'N'.repeat(256) })).toMatchObject({ status: 400 });
    expect(await seed({ dimensions: [{ Name: 'A', Value: 'x', Unit: 'Count' }] })).toMatchObject({
      status: 400,
    });
    expect(harness.emulator.services.cloudwatch.datums({ namespace: 'SeededNames' })).toEqual([]);
  });
});

describe('isCalendarDateTime', () => {
  it('accepts a real instant with its zone and refuses anything else', () => {
    for (const text of ['2026-12-06T23:59:59Z', '2024-02-29T00:00Z', '2026-06-30T12:00:00.123456789-09:30'])
      expect({ text, ok: isCalendarDateTime(text) }).toEqual({ text, ok: true });
    for (const text of [
      '2026-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-00-10T00:00:00Z',
      '2026-06-31T00:00:00Z',
      '2026-06-30T23:60:00Z',
      '2026-06-30T23:00:60Z',
      '2026-06-30T23:00:00',
      '2026-06-30T23:00:00+24:00',
      '2026-06-30',
      'yesterday',
    ])
      expect({ text, ok: isCalendarDateTime(text) }).toEqual({ text, ok: false });
  });
});
