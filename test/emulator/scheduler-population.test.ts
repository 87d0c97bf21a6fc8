// Seeding, synthetic populations and the control routes of the Scheduler emulator, and the standalone
// entry point's arguments.
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  paginateListSchedules,
  ResourceNotFoundException,
} from '@aws-sdk/client-scheduler';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_SCHEDULE_GROUP,
  DEFAULT_STATE_TABLE,
  environmentLines,
  parseArguments,
} from '../../scripts/emulator/main.ts';
import type { SeedDefinition } from '../../scripts/emulator/scheduler.ts';
import { ACCOUNT_ID, useTestEmulator } from '../support/emulator.ts';

const ROLE = `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-invoke`;
const TARGET = `arn:aws:lambda:us-east-1:${ACCOUNT_ID}:function:remind`;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function definition(name: string, overrides: Partial<SeedDefinition> = {}): SeedDefinition {
  return {
    Name: name,
    ScheduleExpression: 'at(2024-01-15T08:00:00)',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: TARGET, RoleArn: ROLE },
    ...overrides,
  };
}

const scheduler = () => emulator.emulator.services.scheduler;

async function control(action: string, body: unknown) {
  const response = await fetch(`${emulator.emulator.url}/_emulator/scheduler/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const emulator = useTestEmulator();
beforeEach(() => {
  scheduler().reset();
  emulator.emulator.plane.controls.clockOffsetMs = 0;
});

describe('seed', () => {
  it('stores nothing when any definition is invalid, and names the definition and the field', () => {
    const definitions = [
      definition('first'),
      definition('second'),
      definition('third', { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }),
    ];

    expect(() => scheduler().seed(definitions)).toThrow(
      /Seed definition 2 \(default\/third\).*MaximumWindowInMinutes/,
    );
    expect(scheduler().count()).toBe(0);
  });

  it('rejects a definition that is not an object, naming its position', () => {
    expect(() => scheduler().seed([definition('fine'), null as unknown as SeedDefinition])).toThrow(
      /Seed definition 1 .*must be an object/,
    );
    expect(scheduler().count()).toBe(0);
  });

  it('stores nothing when a name repeats within the batch or already exists', () => {
    scheduler().seed([definition('taken')]);

    expect(() => scheduler().seed([definition('fresh'), definition('fresh')])).toThrow(/already exists/);
    expect(() => scheduler().seed([definition('new'), definition('taken')])).toThrow(/already exists/);
    expect(scheduler().count()).toBe(1);
  });

  it('honours the schedule quota', () => {
    scheduler().setScheduleQuota(3);

    expect(() =>
      scheduler().seed([definition('a'), definition('b'), definition('c'), definition('d')]),
    ).toThrow(/quota/);
    expect(scheduler().count()).toBe(0);
  });

  it('keeps the CreationDate and LastModificationDate it is given, and lists them', async () => {
    const created = new Date('2023-12-01T00:00:00.250Z');
    const modified = new Date('2023-12-02T00:00:00.500Z');
    scheduler().seed([definition('old', { CreationDate: created, LastModificationDate: modified })]);

    const listed = await emulator.scheduler.send(new ListSchedulesCommand({}));

    expect(listed.Schedules?.[0]?.CreationDate).toEqual(created);
    expect(listed.Schedules?.[0]?.LastModificationDate).toEqual(modified);
  });

  it('removes a seeded DELETE schedule that is already past its time, as Scheduler would have', async () => {
    scheduler().seed([
      definition('long-gone', { ActionAfterCompletion: 'DELETE' }),
      definition('left-behind', { ActionAfterCompletion: 'NONE' }),
    ]);

    const gone = emulator.scheduler.send(new GetScheduleCommand({ Name: 'long-gone' }));

    await expect(gone).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(scheduler().has('default', 'left-behind')).toBe(true);
    expect(scheduler().counters().autoDeleted).toBe(1);
  });

  it('takes 100,000 schedules in one call and serves them by name and by page', async () => {
    // Prepare
    scheduler().createGroup('bulk');
    const definitions = Array.from({ length: 100_000 }, (_, index) =>
      definition(`bulk-${index}`, { GroupName: index % 2 === 0 ? 'default' : 'bulk' }),
    );

    // Act
    const result = scheduler().seed(definitions);
    const one = await emulator.scheduler.send(
      new GetScheduleCommand({ Name: 'bulk-77777', GroupName: 'bulk' }),
    );
    const page = await emulator.scheduler.send(
      new ListSchedulesCommand({ GroupName: 'bulk', MaxResults: 100 }),
    );

    // Assess
    expect(result.created).toBe(100_000);
    expect(scheduler().count()).toBe(100_000);
    expect(scheduler().count({ group: 'bulk' })).toBe(50_000);
    expect(one.Name).toBe('bulk-77777');
    expect(page.Schedules?.length).toBe(100);
    expect(page.NextToken).toBeTruthy();
  });
});

describe('synthesize', () => {
  it('reports a population whose kinds add up and whose expected deletions follow its rule', () => {
    const report = scheduler().synthesize({
      count: 3000,
      seed: 7,
      groups: ['default', 'orders'],
      graceMinutes: 90,
    });

    const kinds = Object.values(report.byKind);
    expect(kinds.reduce((sum, value) => sum + value, 0)).toBe(3000);
    expect(Object.values(report.byKind).every((value) => value > 0)).toBe(true);
    expect(report.expectedDeletions).toBe(
      report.byKind.finishedNone + report.byKind.dstGap + report.byKind.disabledPast,
    );
    expect(report.expectedDeletionsKeepingDisabled).toBe(
      report.expectedDeletions - report.byKind.disabledPast,
    );
    expect(scheduler().count()).toBe(3000);
    expect(scheduler().count({ group: 'orders' })).toBeGreaterThan(0);
  });

  it('gives the same population for the same seed and a different one for another seed', async () => {
    const collect = async (seed: number) => {
      scheduler().reset();
      const report = scheduler().synthesize({ count: 500, seed, groups: ['a', 'b'] });
      const listed: string[] = [];
      for await (const page of paginateListSchedules({ client: emulator.scheduler, pageSize: 100 }, {})) {
        for (const summary of page.Schedules ?? [])
          listed.push(`${summary.GroupName}/${summary.Name}/${summary.State}`);
      }
      return { byKind: report.byKind, listed: listed.sort() };
    };

    const first = await collect(42);
    const again = await collect(42);
    const other = await collect(43);

    expect(first.listed.length).toBe(500);
    expect(again).toEqual(first);
    expect(other.listed).not.toEqual(first.listed);
  });

  it('places every schedule well clear of the finished/pending boundary for the stated grace', () => {
    // Prepare
    const graceMinutes = 120;
    const report = scheduler().synthesize({ count: 2000, seed: 3, graceMinutes });
    const now = emulator.emulator.plane.now().getTime();
    const graceMs = graceMinutes * 60_000;
    const seen: Record<string, number> = {};

    // Act + Assess: read each schedule back and check its placement independently of the generator.
    for (const kind of Object.keys(report.byKind)) {
      for (let index = 0; index < 2000; index += 1) {
        const view = scheduler().get('default', `syn-${kind}-${index}`);
        if (!view) continue;
        seen[kind] = (seen[kind] ?? 0) + 1;
        const expression = view.ScheduleExpression!;
        const window = (view.FlexibleTimeWindow?.MaximumWindowInMinutes ?? 0) * 60_000;
        const age = (view.Target?.RetryPolicy?.MaximumEventAgeInSeconds ?? 86_400) * 1000;
        const wallAsUtc = expression.startsWith('at(')
          ? Date.parse(`${expression.slice(3, -1)}Z`)
          : Number.NaN;
        const zoneSlack = 14 * HOUR;
        switch (kind) {
          case 'finishedNone':
          case 'disabledPast':
          case 'unknownZone':
          case 'dstGap':
            expect(wallAsUtc + zoneSlack + window + age + graceMs).toBeLessThan(now - DAY);
            break;
          case 'futureAt':
            expect(wallAsUtc - zoneSlack).toBeGreaterThan(now + DAY);
            break;
          case 'insideRetryWindow':
            expect([undefined, 'UTC']).toContain(view.ScheduleExpressionTimezone);
            expect(wallAsUtc).toBeLessThan(now);
            expect(wallAsUtc + window + age).toBeGreaterThan(now + 12 * HOUR - 1000);
            break;
          default:
            expect(expression).toMatch(/^(rate|cron)\(/);
        }
        if (kind === 'disabledPast') expect(view.State).toBe('DISABLED');
        else expect(view.State).toBe('ENABLED');
        if (kind === 'unknownZone')
          expect(() => zoneFormatter(view.ScheduleExpressionTimezone!)).toThrow(RangeError);
        if (kind === 'dstGap')
          expect(wallTimeExists(expression.slice(3, -1), view.ScheduleExpressionTimezone!)).toBe(false);
      }
    }
    expect(seen).toEqual(report.byKind);
  });

  it('rejects an unknown kind in the mix and creates nothing', () => {
    expect(() => scheduler().synthesize({ count: 10, mix: { finishedNon: 1 } as never })).toThrow(
      /finishedNon/,
    );
    expect(scheduler().count()).toBe(0);
  });
});

describe('control routes', () => {
  it('seeds, counts, sets the quota and reports deleted names over HTTP', async () => {
    // Prepare
    const seeded = await control('seed', {
      schedules: [
        { ...definition('via-http-1'), StartDate: '2024-01-01T00:00:00Z' },
        { ...definition('via-http-2'), State: 'DISABLED' },
      ],
    });
    const quota = await control('quota', { quota: 5 });
    await emulator.scheduler.send(new DeleteScheduleCommand({ Name: 'via-http-1' }));

    // Act
    const disabled = await control('count', { state: 'DISABLED' });
    const deleted = await control('deleted', { clear: true });
    const afterClear = await control('deleted', {});

    // Assess
    expect(seeded.body).toEqual({ created: 2 });
    expect(quota.body).toEqual({ quota: 5 });
    expect(scheduler().scheduleQuota()).toBe(5);
    expect(disabled.body).toEqual({ count: 1 });
    expect(deleted.body).toEqual({ count: 1, names: ['default/via-http-1'], complete: true });
    expect(afterClear.body.count).toBe(0);
  });

  it('synthesizes a population over HTTP and reports it', async () => {
    const answer = await control('synthesize', { count: 1000, seed: 1, mix: { rate: 0, cron: 0 } });

    expect(answer.status).toBe(200);
    expect(answer.body.created).toBe(1000);
    expect((answer.body.byKind as Record<string, number>).rate).toBe(0);
    expect(scheduler().count()).toBe(1000);
  });
});

describe('standalone entry point', () => {
  it('reads --port, --host and --table in both spellings and rejects anything else', () => {
    const tables = [DEFAULT_STATE_TABLE];
    const groups = [DEFAULT_SCHEDULE_GROUP];
    expect(parseArguments([])).toEqual({ port: 4566, host: '127.0.0.1', tables, groups });
    expect(parseArguments(['--port', '4570'])).toEqual({ port: 4570, host: '127.0.0.1', tables, groups });
    expect(parseArguments(['--port=0', '--host=0.0.0.0'])).toEqual({
      port: 0,
      host: '0.0.0.0',
      tables,
      groups,
    });
    expect(parseArguments(['--table', 'schedule-hygiene-prod-state'])).toMatchObject({
      tables: [DEFAULT_STATE_TABLE, 'schedule-hygiene-prod-state'],
    });
    expect(() => parseArguments(['--port', 'abc'])).toThrow(/--port/);
    expect(() => parseArguments(['--seed-demo'])).toThrow(/Unknown argument '--seed-demo'/);
  });

  it('prints an endpoint variable for every emulated service plus test credentials', () => {
    const lines = environmentLines('http://127.0.0.1:4566');

    for (const service of [
      'SCHEDULER',
      'CLOUDWATCH',
      'SERVICE_QUOTAS',
      'LAMBDA',
      'DYNAMODB',
      'STS',
      'CLOUDFORMATION',
      'KMS',
    ]) {
      expect(lines).toContain(`AWS_ENDPOINT_URL_${service}=http://127.0.0.1:4566`);
    }
    expect(lines).toContain('AWS_REGION=us-east-1');
  });
});

function zoneFormatter(zone: string) {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** Whether any instant within 15 hours of the wall time shows exactly that wall time in the zone. */
function wallTimeExists(wall: string, zone: string): boolean {
  const formatter = zoneFormatter(zone);
  const guess = Date.parse(`${wall}Z`);
  for (let instant = guess - 15 * HOUR; instant <= guess + 15 * HOUR; instant += 15 * 60_000) {
    const parts = Object.fromEntries(formatter.formatToParts(instant).map((part) => [part.type, part.value]));
    const shown = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
    if (shown === wall) return true;
  }
  return false;
}
