// The standalone emulator (`npm run emulator`): it starts from any clone path, a path with a space
// included, creates what the dev stage's functions expect, and prints variables that the SDK and the
// AWS CLI both read.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListScheduleGroupsCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterEach, describe, expect, it } from 'vitest';
import { environmentLines } from '../../scripts/emulator/main.ts';

let child: ChildProcess | undefined;
let copy: string | undefined;

afterEach(() => {
  child?.kill('SIGTERM');
  child = undefined;
  if (copy) rmSync(copy, { recursive: true, force: true });
  copy = undefined;
});

/** Starts scripts/emulator/main.ts from `root` and resolves with what it printed once it listens. */
function start(root: string): Promise<string> {
  child = spawn(resolve('node_modules/.bin/tsx'), [join(root, 'scripts/emulator/main.ts'), '--port', '0'], {
    cwd: root,
    env: { ...process.env },
  });
  return new Promise((done, fail) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`emulator printed nothing useful:\n${output}`)), 20_000);
    child?.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Controls:')) {
        clearTimeout(timer);
        done(output);
      }
    });
    child?.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`emulator exited with ${code} before listening:\n${output}`));
    });
  });
}

describe('npm run emulator', () => {
  it('starts from a clone whose path contains a space', async () => {
    // Prepare: the scripts in a directory named with a space, next to the real node_modules.
    copy = mkdtempSync(join(tmpdir(), 'schedule hygiene '));
    cpSync(resolve('scripts'), join(copy, 'scripts'), { recursive: true });
    cpSync(resolve('src'), join(copy, 'src'), { recursive: true });
    cpSync(resolve('package.json'), join(copy, 'package.json'));
    symlinkSync(resolve('node_modules'), join(copy, 'node_modules'));

    // Act
    const output = await start(copy);

    // Assess
    expect(output).toMatch(/Emulator listening on http:\/\/127\.0\.0\.1:\d+/);
  }, 90_000);

  it('creates the dev stage group for the create path, so it has a group to write into', async () => {
    // Act
    const output = await start(resolve('.'));
    const url = /Emulator listening on (\S+)/.exec(output)?.[1] ?? '';
    const scheduler = new SchedulerClient({ endpoint: url, region: 'us-east-1' });
    const groups = await scheduler.send(new ListScheduleGroupsCommand({}));

    // Assess
    expect(groups.ScheduleGroups?.map((group) => group.Name)).toContain('schedule-hygiene-dev');
    expect(output).toContain('export CREATE_SCHEDULE_GROUP=schedule-hygiene-dev');
  }, 90_000);
});

describe('environmentLines', () => {
  it('names the Region for the SDK (AWS_REGION) and for the AWS CLI (AWS_DEFAULT_REGION)', () => {
    const lines = environmentLines('http://127.0.0.1:4566');

    expect(lines).toContain('AWS_REGION=us-east-1');
    expect(lines).toContain('AWS_DEFAULT_REGION=us-east-1');
  });

  it('gives the create path its group and an execution role ARN of the form AWS requires', () => {
    const lines = environmentLines('http://127.0.0.1:4566');
    const role = lines.find((line) => line.startsWith('SCHEDULER_ROLE_ARN='))?.split('=')[1];

    expect(lines).toContain('CREATE_SCHEDULE_GROUP=schedule-hygiene-dev');
    expect(role).toMatch(/^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/);
  });
});
