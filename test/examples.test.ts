// The library as a package: its public core is reachable by the package's own name (package.json
// "exports"), and the example docs/create.md shows runs, as a process, against the emulator.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { createOneTimeSchedule } from 'schedule-hygiene/create';
import { decide } from 'schedule-hygiene/decide';
import { sweep } from 'schedule-hygiene/sweep';
import { beforeEach, describe, expect, it } from 'vitest';
import { createOneTimeSchedule as createFromSource } from '../src/create/index.ts';
import { ACCOUNT_ID, useTestEmulator } from './support/emulator.ts';

const GROUP = 'schedule-hygiene-example';
const test = useTestEmulator();

beforeEach(() => {
  test.emulator.services.scheduler.reset();
  test.emulator.services.scheduler.createGroup(GROUP);
});

describe('the package entry points', () => {
  it('export the public core: sweep, decide and the create path, the same modules as src/', () => {
    expect(typeof sweep).toBe('function');
    expect(createOneTimeSchedule).toBe(createFromSource);
    expect(
      decide({ ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' }, new Date(), {
        graceMs: 0,
        keepDisabled: false,
      }),
    ).toEqual({ outcome: 'recurring' });
  });

  it('docs/create.md shows examples/create-schedule.ts as it is', () => {
    const page = readFileSync('docs/create.md', 'utf8');
    const example = readFileSync('examples/create-schedule.ts', 'utf8');
    const start = example.indexOf('import ');
    expect(page).toContain(example.slice(start, example.indexOf('console.log', start)).trim());
  });

  it('examples/create-schedule.ts runs: a schedule a week ahead that deletes itself', async () => {
    // Act: as docs/create.md says to run it, with the SDK pointed at the emulator.
    const { stdout } = await promisify(execFile)('node_modules/.bin/tsx', ['examples/create-schedule.ts'], {
      env: {
        ...process.env,
        AWS_ENDPOINT_URL_SCHEDULER: test.emulator.url,
        CREATE_SCHEDULE_GROUP: GROUP,
        SCHEDULER_ROLE_ARN: `arn:aws:iam::${ACCOUNT_ID}:role/scheduler-execution`,
      },
      timeout: 30_000,
    });
    const created = JSON.parse(stdout) as { name: string; scheduleExpression: string; runsAt: string };

    // Assess: a week ahead, never a date in the past, and DELETE after completion.
    const day = new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);
    expect(created.scheduleExpression).toBe(`at(${day}T09:00:00)`);
    expect(new Date(created.runsAt).getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect(test.emulator.services.scheduler.get(GROUP, created.name)).toMatchObject({
      ActionAfterCompletion: 'DELETE',
      ScheduleExpressionTimezone: 'Europe/Berlin',
    });
  });
});
